"""IP enrichment for "See Threat Intel": location, ASN, Tor exit, scope and RDAP ownership.

Import the module you need (`parley.enrichment.service`, `.models`, `.ranges`, …): this package
file stays empty so that a workflow importing a model does not load maxminddb or ipwhois.
"""
