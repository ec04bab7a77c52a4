#!/usr/bin/env bash
# Starts a migration job through the REST API and follows it until it ends.
#
#   AI_API_URL=https://shop.example.com AI_API_TOKEN=<admin token> ./migrate.sh
#
# Environment:
#   AI_API_URL        base URL of the application            (default http://localhost:3000)
#   AI_API_TOKEN      an admin token of AiWebModule auth.tokens (required)
#   ENTITY_TYPE       entity type to migrate                 (default product)
#   BATCH_SIZE        rows per page, 1..5000                 (default: the server's default)
#   RATE_LIMIT        provider requests per minute           (default: the server's default)
#   REINDEX_EXISTING  true to re-embed up-to-date entities   (default false)
#   POLL_SECONDS      seconds between progress checks       (default 10)
#   TIMEOUT_SECONDS   give up after this long, 0 = never     (default 0)
#   MAX_POLL_ERRORS   consecutive failed progress reads (server unreachable, 5xx, 429) tolerated
#                     while polling, e.g. during a rolling deploy (default 5)
#
# Exit status: 0 when the job COMPLETED with no failed entities, 1 when it ended otherwise (FAILED,
# CANCELLED, or COMPLETED with failures), 2 on a usage or HTTP error, 3 on timeout.
# Needs only bash, curl and sed (no jq), so it runs in minimal CI and container images.
set -euo pipefail

API_URL="${AI_API_URL:-http://localhost:3000}"
ENTITY_TYPE="${ENTITY_TYPE:-product}"
POLL_SECONDS="${POLL_SECONDS:-10}"
TIMEOUT_SECONDS="${TIMEOUT_SECONDS:-0}"
MAX_POLL_ERRORS="${MAX_POLL_ERRORS:-5}"
: "${AI_API_TOKEN:?Set AI_API_TOKEN to an admin token configured in AiWebModule auth.tokens.}"

# The token travels in a header read from stdin, so it does not show in `ps` output.
api() { # method path [json-body]
  local method="$1" path="$2" body="${3:-}"
  local args=(--silent --show-error --max-time 30 --write-out '\n%{http_code}' -X "$method" -H @- "${API_URL}${path}")
  if [[ -n "$body" ]]; then args+=(-H 'Content-Type: application/json' --data "$body"); fi
  printf 'Authorization: Bearer %s\n' "$AI_API_TOKEN" | curl "${args[@]}"
}

# Extracts a scalar field from a JSON body (strings may contain escaped quotes): field <name> <json>.
field() {
  printf '%s' "$2" | sed -n "s/.*\"$1\":\(\"\(\([^\"\\\\]\|\\\\.\)*\)\"\|\([-0-9.]*\)\|null\).*/\2\4/p" | head -n 1 | sed 's/\\"/"/g'
}

request_body="{\"entityType\":\"${ENTITY_TYPE}\""
[[ -n "${BATCH_SIZE:-}" ]] && request_body+=",\"batchSize\":${BATCH_SIZE}"
[[ -n "${RATE_LIMIT:-}" ]] && request_body+=",\"rateLimit\":${RATE_LIMIT}"
[[ -n "${REINDEX_EXISTING:-}" ]] && request_body+=",\"reindexExisting\":${REINDEX_EXISTING}"
request_body+="}"

response="$(api POST /api/ai/migration/start "$request_body")" || { echo "Cannot reach ${API_URL}." >&2; exit 2; }
status_code="${response##*$'\n'}"
body="${response%$'\n'*}"
if [[ "$status_code" != "201" ]]; then
  echo "Starting the migration failed with HTTP ${status_code}: $(field message "$body")" >&2
  exit 2
fi
job_id="$(field id "$body")"
echo "Started migration job ${job_id} for ${ENTITY_TYPE} ($(field totalEntities "$body") entities)."

started_at="$(date +%s)"
poll_errors=0
while true; do
  # The job runs on the server whatever happens here: a failed read is retried, not fatal, unless the
  # server answers a definite client error (token revoked, job deleted).
  if response="$(api GET "/api/ai/migration/jobs/${job_id}")"; then
    status_code="${response##*$'\n'}"
    body="${response%$'\n'*}"
  else
    status_code="000"
    body=""
  fi
  if [[ "$status_code" != "200" ]]; then
    if [[ "$status_code" =~ ^4 && "$status_code" != "429" ]]; then
      echo "Reading the progress failed with HTTP ${status_code}: $(field message "$body")" >&2
      exit 2
    fi
    poll_errors=$((poll_errors + 1))
    if [[ "$poll_errors" -gt "$MAX_POLL_ERRORS" ]]; then
      echo "Reading the progress failed ${poll_errors} times in a row (last: HTTP ${status_code}); job ${job_id} keeps running on the server." >&2
      exit 2
    fi
    echo "Reading the progress failed (HTTP ${status_code}); retrying (${poll_errors}/${MAX_POLL_ERRORS})." >&2
    sleep "$POLL_SECONDS"
    continue
  fi
  poll_errors=0
  status="$(field status "$body")"
  echo "$(date -u +%H:%M:%S) ${status} processed=$(field processed "$body")/$(field total "$body") failed=$(field failed "$body") skipped=$(field skipped "$body") $(field percentComplete "$body")% eta=$(field estimatedTimeRemaining "$body")"
  case "$status" in
    COMPLETED)
      failed="$(field failed "$body")"
      if [[ "${failed:-0}" != "0" ]]; then
        echo "Job ${job_id} completed with ${failed} failed entities; see GET /api/ai/migration/jobs/${job_id}/failures." >&2
        exit 1
      fi
      echo "Job ${job_id} completed."
      exit 0
      ;;
    FAILED | CANCELLED)
      echo "Job ${job_id} ended ${status}: $(field errorMessage "$body")" >&2
      exit 1
      ;;
  esac
  if [[ "$TIMEOUT_SECONDS" != "0" && $(($(date +%s) - started_at)) -ge "$TIMEOUT_SECONDS" ]]; then
    echo "Job ${job_id} is still ${status} after ${TIMEOUT_SECONDS} s; it keeps running on the server." >&2
    exit 3
  fi
  sleep "$POLL_SECONDS"
done
