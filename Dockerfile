# One image for the API, the worker and the Slack stand-in; the command picks the role.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY worker.py ./
COPY parley parley
COPY workflows workflows
COPY activities activities
COPY api api
COPY tools tools
COPY examples examples
# `--build-arg PARLEY_EXTRAS=otel` adds OpenTelemetry tracing (PARLEY_OTEL_ENABLED).
ARG PARLEY_EXTRAS=""
RUN pip install --no-cache-dir ".${PARLEY_EXTRAS:+[$PARLEY_EXTRAS]}"
ENV PYTHONUNBUFFERED=1
CMD ["python", "worker.py"]
