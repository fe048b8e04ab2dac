#!/bin/sh
# `kernelpilot task launch TASK` from this checkout, with the Python the installer recorded or the checkout's .venv.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
py=${KERNELPILOT_PYTHON:-}
[ -n "$py" ] || { [ -x "$root/.venv/bin/python" ] && py="$root/.venv/bin/python"; } || py=python3
cd "$root"
exec "$py" -m kernelpilot task launch "$@"
