#!/usr/bin/env bash
# manifest-runtime as an entrant of the peer benchmark (/work/shared/peers, see README.md here).
#   entrant.sh BASE_URL PER_PAGE [--dry-run]
# Sets the workflow up in a fresh state file (token checked against the fake API), then
# `poll --catch-up` (cycle after cycle: one cycle stops after 1,000 results, the platform's
# rule): with --dry-run the records go to stdout as JSON lines; without, into the sandbox of
# that state file. Reports the total as `PEERSTATS {"records": N}` on stderr.
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
if [ "${1:-}" = --dry-run ]; then
  $MR poll "$TMP/manifest.yaml" --catch-up "${COMMON[@]}" "$@" 2> "$TMP/summary"
else  # the summary lines are poll's stdout: the records are in the sandbox
  $MR poll "$TMP/manifest.yaml" --catch-up "${COMMON[@]}" "$@" > "$TMP/summary"
fi
tail -3 "$TMP/summary" >&2
N=$(grep -o -E '(transformed|delivered) [0-9]+' "$TMP/summary" | awk '{n += $2} END {print n+0}')
echo "PEERSTATS {\"records\": $N}" >&2
