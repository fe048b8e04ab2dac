#!/bin/sh
# Install KernelPilot's skills and review-gated loop into Claude Code, Codex and/or Kimi.
#   install/install-skill.sh --target claude|codex|kimi|all [--dry-run] [--uninstall] [--home DIR]
#                            [--skills-dir DIR] [--no-cli] [--python PY]
# The Python it records (and that the hooks run) is --python, else $KERNELPILOT_PYTHON, else the checkout's .venv
# (made with python3 -m venv when missing); kernelpilot is installed into it when it cannot import it yet.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
target=""
python=${KERNELPILOT_PYTHON:-}
uninstall=""
dry_run=""
set_target() { [ -z "$target" ] || { echo "install-skill.sh: give --target once" >&2; exit 2; }; target=$1; }
pass=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) [ $# -ge 2 ] || { echo "install-skill.sh: --target needs a value" >&2; exit 2; }; set_target "$2"; shift 2 ;;
    --target=*) set_target "${1#--target=}"; shift ;;
    --python) [ $# -ge 2 ] || { echo "install-skill.sh: --python needs a value" >&2; exit 2; }; python=$2; shift 2 ;;
    *) case "$1" in --uninstall) uninstall=1 ;; --dry-run) dry_run=1 ;; esac
       pass="$pass $(printf '%s' "$1" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/")"; shift ;;
  esac
done
case "$target" in
  claude|codex|kimi|all) ;;
  *) echo "install-skill.sh: --target must be claude, codex, kimi or all (got '${target}')" >&2; exit 2 ;;
esac
if [ -z "$python" ]; then
  python="$root/.venv/bin/python"
  if [ ! -x "$python" ]; then
    if [ -n "$uninstall$dry_run" ]; then python=python3; else python3 -m venv "$root/.venv"; fi
  fi
fi
if [ -z "$uninstall$dry_run" ] && ! env -u PYTHONPATH "$python" -c "import kernelpilot" 2>/dev/null; then
  "$python" -m pip install --quiet -e "$root"
fi
eval "set -- $pass"
exec "$python" -m kernelpilot install "$target" --root "$root" "$@"
