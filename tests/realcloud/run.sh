#!/usr/bin/env bash
# The real-services tier in one command: bring the stack up (installing what is missing), run the
# twin's contract suite and vigil's real-cloud integration tests against it, stop every process.
# Set VIGIL_SKIP_REALCLOUD=1 to skip it explicitly (it says so); it is never skipped silently.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
if [ -n "${VIGIL_SKIP_REALCLOUD:-}" ] && [ "${VIGIL_SKIP_REALCLOUD}" != "0" ]; then
  echo "realcloud: SKIPPED because VIGIL_SKIP_REALCLOUD=${VIGIL_SKIP_REALCLOUD} - the real-service tier did NOT run"
  exit 0
fi
PY=${VIGIL_PYTHON:-.venv/bin/python}
STACK=tests/realcloud/stack.py
start=$(date +%s)
# shellcheck disable=SC2317  # called by the EXIT trap
stop() { "$PY" "$STACK" down; }
trap stop EXIT
trap 'exit 130' INT TERM
# the stack's own answer (it honours VIGIL_REALCLOUD_DIR), not a fixed path
clouds=$("$PY" "$STACK" clouds) || exit 1
"$PY" "$STACK" up || { echo "realcloud: the stack did not come up (logs: $(dirname "$clouds")/logs)"; exit 1; }
echo "realcloud: stack up after $(( $(date +%s) - start ))s"
export OS_CLIENT_CONFIG_FILE=$clouds
deselect=()
while read -r id _; do
  [ -n "$id" ] && [ "${id:0:1}" != "#" ] && deselect+=(--deselect "$id")
done < tests/realcloud/contract_deselect.txt
rc=0
VIGIL_CONTRACT_CLOUD=vigil-real VIGIL_CONTRACT_MEMBER_CLOUD=vigil-real-member \
  "$PY" -m pytest -q -p no:cacheprovider twin/tests/contract "${deselect[@]}" "$@" || rc=1
"$PY" -m pytest -q -p no:cacheprovider tests/realcloud "$@" || rc=1
echo "realcloud: tier finished in $(( $(date +%s) - start ))s (rc=$rc)"
exit $rc
