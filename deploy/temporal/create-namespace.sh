#!/bin/sh
# One-shot (temporalio/admin-tools), once the server is healthy: Parley's namespace with a
# retention that covers reopening closed alerts, and Parley's search attributes (one command
# each: `--name A --name B --type Keyword` would silently create only A). Safe to run again.
set -eu
NS="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$NS" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$NS" \
    --retention "${TEMPORAL_RETENTION:-720h}"
existing=$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$NS")
for pair in $PARLEY_SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  if ! printf '%s\n' "$existing" | grep -qw "$name"; then
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$NS" \
      --name "$name" --type "$type"
  fi
done
echo "namespace $NS and Parley's search attributes are ready"
