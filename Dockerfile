# One image for the API, the worker and the Slack stand-in; the command picks the role.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY settings.py worker.py temporal_client.py devstack.py ./
COPY workflows workflows
COPY activities activities
COPY api api
COPY slackui slackui
COPY store store
COPY enrichment enrichment
COPY slack_standin slack_standin
COPY examples examples
RUN pip install --no-cache-dir .
ENV PYTHONUNBUFFERED=1
CMD ["python", "worker.py"]
