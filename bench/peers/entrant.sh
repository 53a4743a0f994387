#!/usr/bin/env bash
# manifest-runtime as an entrant of the peer benchmark (/work/shared/peers, see README.md here).
#   entrant.sh BASE_URL PER_PAGE [--dry-run]
# `poll --reset --catch-up`: from initial_setup, cycle after cycle (one cycle stops after 1,000
# results, the platform's rule) until the API has no more. With --dry-run the records go to
# stdout as JSON lines; without, into the sandbox of the state file. Reports the total as
# `PEERSTATS {"records": N}` on stderr.
# The workflow is set up once per state file ($MR_PEERS_DIR, default /tmp/manifest-runtime-
# peers; one per mode and page size), on the first call (run_all.sh's correctness round), as a
# user sets it up once; the peers likewise read a prepared config. The sandbox variant upserts
# the same contacts again on later calls (updates; same statements as inserts but the id).
# That first call also byte-compiles the package (see below).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
MR=${MR:-manifest-runtime}
BASE=$1; PER_PAGE=$2; shift 2
DIR="${MR_PEERS_DIR:-/tmp/manifest-runtime-peers}/pp$PER_PAGE${1:-}"
mkdir -p "$DIR"
COMMON=(--state "$DIR/state.db" --remap "https://api.acme.test=$BASE")
if [ ! -f "$DIR/state.db" ]; then
  # bytecode for our modules, as `pip install` of a wheel writes it (this machine sets
  # PYTHONDONTWRITEBYTECODE, so a checkout would compile them from source on every start)
  PY=$(head -1 "$(command -v "$MR")" | sed 's/^#!//')
  "$PY" -m compileall -q "$("$PY" -c 'import manifest_runtime, os
print(os.path.dirname(manifest_runtime.__file__))')" > /dev/null
  sed "s/PER_PAGE/$PER_PAGE/" "$HERE/manifest.yaml" > "$DIR/manifest.yaml"
  echo '{"acme": {"token": "Token acme-test-token"}}' > "$DIR/credentials.json"
  $MR setup "$DIR/manifest.yaml" --answers "$HERE/answers.yaml" \
      --credentials "$DIR/credentials.json" "${COMMON[@]}" > /dev/null
fi
if [ "${1:-}" = --dry-run ]; then
  $MR poll "$DIR/manifest.yaml" --reset --catch-up "${COMMON[@]}" "$@" 2> "$DIR/summary"
else  # the summary lines are poll's stdout: the records are in the sandbox
  $MR poll "$DIR/manifest.yaml" --reset --catch-up "${COMMON[@]}" "$@" > "$DIR/summary"
fi
tail -2 "$DIR/summary" >&2
N=$(grep -o -E '(transformed|delivered) [0-9]+' "$DIR/summary" | awk '{n += $2} END {print n+0}')
echo "PEERSTATS {\"records\": $N}" >&2
