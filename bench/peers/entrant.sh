#!/usr/bin/env bash
# manifest-runtime as an entrant of the peer benchmark (/work/shared/peers, see README.md here).
#   entrant.sh BASE_URL PER_PAGE [--dry-run]
# Sets the workflow up in a fresh state file (token checked against the fake API), then
# `poll` once: with --dry-run the records go to stdout as JSON lines; without, into the
# sandbox of that state file. Reports the count as `PEERSTATS {"records": N}` on stderr.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
MR=${MR:-manifest-runtime}
BASE=$1; PER_PAGE=$2; shift 2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
sed "s/PER_PAGE/$PER_PAGE/" "$HERE/manifest.yaml" > "$TMP/manifest.yaml"
echo '{"acme": {"token": "Token acme-test-token"}}' > "$TMP/credentials.json"
COMMON=(--state "$TMP/state.db" --remap "https://api.acme.test=$BASE")
$MR setup "$TMP/manifest.yaml" --answers "$HERE/answers.yaml" \
    --credentials "$TMP/credentials.json" "${COMMON[@]}" > /dev/null
$MR poll "$TMP/manifest.yaml" --once "${COMMON[@]}" "$@" 2> "$TMP/err" \
    | { [ "${1:-}" = --dry-run ] && cat || cat > "$TMP/summary"; }
cat "$TMP/err" >&2
N=$(grep -ho -E '(transformed|delivered) [0-9]+' "$TMP/err" "$TMP/summary" 2>/dev/null \
    | tail -1 | awk '{print $2}')
echo "PEERSTATS {\"records\": ${N:-0}}" >&2
