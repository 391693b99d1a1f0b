"""Prometheus metrics (prometheus_client, the standard client library).

Two registries, because the API and the worker are separate processes with separate scrape
targets (and tests run both in one process): `API` is served at the API's /metrics, `WORKER` at
the worker's. The Temporal SDK's own worker metrics (task latencies, slots, polls) come from its
runtime's Prometheus exporter on TEMPORAL_METRICS_ADDRESS, not from here.

Labels stay low-cardinality: route templates, never alert ids, users or channels.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

API = CollectorRegistry(auto_describe=True)
WORKER = CollectorRegistry(auto_describe=True)

# ---- API ------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "parley_http_requests",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
    registry=API,
)
HTTP_SECONDS = Histogram(
    "parley_http_request_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route"],
    registry=API,
)
SLACK_ACK_SECONDS = Histogram(
    "parley_slack_ack_seconds",
    "Time to acknowledge a Slack interaction (Slack gives up after 3 s)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=API,
)
INTAKE = Counter(
    "parley_intake_alerts",
    "Alerts offered at intake, by outcome (created, queued, duplicate, rejected, unavailable)",
    ["outcome"],
    registry=API,
)

# ---- worker ---------------------------------------------------------------------------------
SLACK_POSTS = Counter(
    "parley_slack_posts", "Messages and thread replies Slack accepted", registry=WORKER
)
SLACK_UPDATES = Counter("parley_slack_updates", "Messages Slack re-rendered", registry=WORKER)
SLACK_RATE_LIMITED = Counter(
    "parley_slack_rate_limited",
    "Slack calls answered 429 (retried after Retry-After)",
    ["method"],
    registry=WORKER,
)
DELIVERY_FAILURES = Counter(
    "parley_delivery_failures",
    "Copies Slack refused for good (recorded in the alert's history)",
    registry=WORKER,
)
STORMS_STARTED = Counter(
    "parley_storms_started", "Storm digests opened (one rule flooding a channel)", registry=WORKER
)
BOOMERANGS_OPEN = Gauge(
    "parley_boomerangs_open",
    "Boomerang questions waiting for an answer (cluster-wide, from Temporal visibility)",
    registry=WORKER,
)
STORMS_OPEN = Gauge(
    "parley_storms_open",
    "Storms in progress (cluster-wide, from Temporal visibility)",
    registry=WORKER,
)

# Outcome of POST /alerts by status code (api/alerts.py documents each).
INTAKE_OUTCOMES = {201: "created", 202: "queued", 200: "duplicate", 503: "unavailable"}


def intake_outcome(status: int) -> str:
    return INTAKE_OUTCOMES.get(status, "rejected" if 400 <= status < 500 else "error")
