"""Alerts from where they are born (issue 11): Panther's Custom Webhook as it is sent, and named
JMESPath mappings for any other source. Pure functions from a source's JSON to `AlertIn`; the
API (api/intake.py) serves them and intake proper does the rest."""
