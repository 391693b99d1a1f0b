"""One way to connect to Temporal, shared by the API, the worker and the tools.

The same settings reach a local dev server, a self-hosted cluster (optionally with mTLS) or
Temporal Cloud (an API key, which turns TLS on).
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from parley.settings import Settings
from parley.tracing import set_up


def tls_config(settings: Settings) -> TLSConfig | bool | None:
    """TLS for the connection: None lets the SDK decide (on with an API key, else off)."""
    files = {
        "client_cert": settings.temporal_tls_client_cert,
        "client_private_key": settings.temporal_tls_client_key,
        "server_root_ca_cert": settings.temporal_tls_server_ca,
    }
    if any(files.values()) or settings.temporal_tls_server_name:
        read = {k: Path(v).read_bytes() for k, v in files.items() if v}
        return TLSConfig(domain=settings.temporal_tls_server_name or None, **read)
    if settings.temporal_tls:
        return True
    return None


def metrics_runtime(bind_address: str) -> Runtime:
    """A runtime whose Prometheus exporter serves the SDK's metrics on `bind_address`."""
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=bind_address),
            global_tags={"service": "parley"},
        )
    )


async def connect(
    settings: Settings,
    runtime: Runtime | None = None,
    interceptors: list[Interceptor] | None = None,
) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        api_key=settings.temporal_api_key or None,
        tls=tls_config(settings),
        runtime=runtime,
        # Tracing (when on) for every client, reconnections included.
        interceptors=interceptors if interceptors is not None else set_up(settings, "parley"),
    )
