#!/usr/bin/env bash
# One device call for the harness issue: carried wheels, GPU tests, harness fidelity, tile sweep, the norm_infer
# task run and report, and (when present) the ncu fixture capture. Everything that must come back goes to $OUT.
#   carry: .whl (jsonschema, platformdirs, ...), .baselines (SGLang wheels)
set -u
cd "$(dirname "$0")/../.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || exit 1
export PYTHONPATH=/tmp/site:$PWD/src:$PWD/tests/harness PYTHONUNBUFFERED=1 KERNELPILOT_WHEELS=$PWD/.baselines
TASK=kernels/h200_diffusion_norm_infer__multi_shape
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
stage() { echo "=== $1 ($(date +%T))"; }
stage "gpu tests"; timeout 240 python3 -m pytest -q -m gpu tests/harness -p no:cacheprovider 2>&1 | tail -4
stage "fidelity"; timeout 200 python3 scripts/gpu/harness_fidelity.py 2>&1 | tee "$OUT/fidelity.txt" | tail -6
if [ "${SWEEP:-1}" = 1 ]; then stage "sweep"; timeout 240 python3 scripts/gpu/sweep_norm_tiles.py 2>&1 | tee "$OUT/sweep.txt"; fi
stage "task run"; timeout 900 python3 -m kernelpilot task run "$TASK" > "$OUT/run.txt" 2>&1; echo "rc=$?"
grep -v "views.py" "$OUT/run.txt" | tail -60
python3 -m kernelpilot task report "$TASK" --docs docs
tar czf "$OUT/task_results.tar.gz" "$TASK/ledgers" "$TASK/benchmarks" docs
if [ -x scripts/gpu/capture_ncu_fixtures.sh ] && [ "${NCU:-1}" = 1 ]; then
  stage "ncu fixtures"; timeout 300 scripts/gpu/capture_ncu_fixtures.sh > "$OUT/ncu_capture.txt" 2>&1; tail -15 "$OUT/ncu_capture.txt"
fi
stage "done"
