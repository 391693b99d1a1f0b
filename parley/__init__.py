"""Parley's shared library: settings, the alert domain model, the Slack adapter, the console
store and IP enrichment. The service's own parts (`workflows/`, `activities/`, `api/`, `worker.py`)
build on it; nothing here imports them."""
