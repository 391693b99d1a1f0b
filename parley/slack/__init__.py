"""The one Slack adapter: client factory, typed errors, Block Kit renderers and action ids.

Used by `api/` and `activities/`; workflows import only the pure parts (errors, renderers)."""
