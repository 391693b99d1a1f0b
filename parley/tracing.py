"""Optional OpenTelemetry tracing (PARLEY_OTEL_ENABLED, the `otel` extra).

`temporalio.contrib.opentelemetry.TracingInterceptor` on the client traces every Temporal call
and carries the trace through the server into workflows and activities, so a Slack click is
one trace from the API's request through the workflow to the Slack call. The exporter is OTLP
and reads the standard OTEL_EXPORTER_OTLP_* and OTEL_SERVICE_NAME variables. Off by default,
and nothing here is imported unless it is turned on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from temporalio.client import Interceptor

    from parley.settings import Settings

log = logging.getLogger("parley.tracing")
_configured = False


def set_up(settings: Settings, service: str, exporter: Any = None) -> list[Interceptor]:
    """Install a tracer provider once per process; return the client interceptors to use."""
    global _configured
    if not settings.parley_otel_enabled:
        return []
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError as exc:
        raise SystemExit(
            f"PARLEY_OTEL_ENABLED needs the otel extra (pip install 'parley[otel]'): {exc}"
        ) from None
    if not _configured:
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _configured = True
        log.info("OpenTelemetry tracing on (%s)", service)
    return [TracingInterceptor()]


def instrument_app(settings: Settings, app: Any) -> None:
    """Spans for the API's own requests too, when the FastAPI instrumentation is installed."""
    if not settings.parley_otel_enabled:
        return
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    except ImportError:
        log.info("opentelemetry-instrumentation-fastapi not installed: Temporal spans only")
        return
    FastAPIInstrumentor.instrument_app(app)
