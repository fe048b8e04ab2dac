#!/usr/bin/env bash
# Sets up .venv with kernelpilot, torch, triton and the agents' CLIs that the tests drive. Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if "$py" -c 'import torch, triton' 2>/dev/null; then
    "$py" -m venv --system-site-packages .venv   # a GPU image: keep its CUDA torch and triton
  else
    "$py" -m venv .venv
  fi
fi
pip() { .venv/bin/python -m pip -q --disable-pip-version-check "$@"; }
.venv/bin/python -c 'import torch' 2>/dev/null || pip install torch==2.13.0
.venv/bin/python -c 'import triton' 2>/dev/null || pip install triton==3.6.0
pip install -e '.[dev]'
if command -v npm >/dev/null 2>&1 && [ ! -x .tools/node_modules/.bin/codex ]; then
  npm install --silent --no-fund --no-audit --prefix .tools @anthropic-ai/claude-code@2.1.328 @openai/codex@0.169.0
fi
echo "kernelpilot is set up in $root/.venv"
