#!/usr/bin/env bash
# One device call: carried wheels, GPU tests, then `task run` + `task report` for each task in $TASKS; optional
# stages by flag (GPU_TESTS=0 skips the GPU tests; FIDELITY=1, HOST_BREAKDOWN=1, EXPORT_TIMING=1, SAME_SIZE_COPY=1,
# SWEEP="norm_tiles group_norm" for scripts/gpu/sweep_<name>.py with SWEEP_ARGS, NCU_FIXTURES="name ...").
# TASK_RUN_ARGS (e.g. "--case A --impl B") narrows every `task run`; CASE_SLICE="START:STOP" runs only those of each
# task's workload cases (in the order `task.cases` lists them), so a task too long for one call is timed over
# several; FILL_GAPS=1 runs instead the narrowed `task run`s that `kernelpilot task gaps` names (what the ledgers
# lack on the task's GPU model; TASK_RUN_ARGS and CASE_SLICE do not apply to them); RUN_PLAN=FILE runs instead the
# narrowed `task run`s that FILE lists, one a line as "TASK ARGS..." (the tasks in the order FILE names them, every
# line of a task in turn, or only those of the tasks in $TASKS; # starts a comment), to compare candidates with
# their parents. Results come back as one tarball in $OUT, named by TARBALL (default task_results.tar.gz; give
# each invocation its own when one call runs the script twice).
#   carry: .whl (jsonschema, platformdirs, ...), .baselines (SGLang wheels)
#   TASKS="kernels/a kernels/b" FIDELITY=1 bash scripts/gpu/run_tasks.sh
set -u
cd "$(dirname "$0")/../.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || exit 1
# SGLang 0.5.12's JIT kernels (qknorm_rope) build from headers beside their own files: unpack that wheel so the
# loader finds it as an installed distribution; tvm-ffi's build calls `ninja` from PATH.
python3 -m zipfile -e .baselines/sglang-0.5.12-*.whl /tmp/site
export PATH=/tmp/site/bin:$PATH
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 KERNELPILOT_WHEELS=$PWD/.baselines
if [ -n "${RUN_PLAN:-}" ] && [ -z "${TASKS:-}" ]; then  # TASKS, when given, picks the plan's lines to run
  TASKS=$(awk '!/^#/ && NF && !seen[$1]++ {print $1}' "$RUN_PLAN")
fi
TASKS=${TASKS:-kernels/h200_diffusion_norm_infer__multi_shape}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv
stage() { echo "=== $1 ($(date +%T))"; }
stage "build extensions"  # torch caches the build; the workers then only load it
timeout 400 python3 -c "from kernelpilot.replay.native import extension; print('replay extension:', 'built' if extension() else 'NOT BUILT')"
for ext in $(for t in $TASKS; do ls "$t"/candidates/_*_ext.py 2>/dev/null; done); do
  (cd "$(dirname "$ext")" && timeout 400 python3 -c "import $(basename "$ext" .py)" 2>&1 | tail -3; echo "$ext rc=$?")
done
if [ "${GPU_TESTS:-1}" = 1 ]; then
  stage "gpu tests"; timeout 300 python3 -m pytest -q -m gpu -p no:cacheprovider tests $TASKS 2>&1 | tail -4
fi
if [ "${FIDELITY:-0}" = 1 ]; then
  stage "fidelity"; timeout 200 python3 scripts/gpu/harness_fidelity.py 2>&1 | tee "$OUT/fidelity.txt" | tail -6
fi
if [ "${HOST_BREAKDOWN:-0}" = 1 ]; then
  stage "host cost breakdown"; timeout 120 python3 scripts/gpu/host_cost_breakdown.py 2>&1 | tee "$OUT/host_breakdown.txt"
fi
if [ "${EXPORT_TIMING:-0}" = 1 ]; then
  for release in 0.5.12 0.5.23; do
    stage "export entry timing $release"
    timeout 120 python3 scripts/gpu/export_entry_timing.py $release 2>&1 | tee "$OUT/export_timing_$release.txt"
  done
fi
for sweep in ${SWEEP:-}; do
  stage "sweep $sweep"; timeout 420 python3 "scripts/gpu/sweep_$sweep.py" ${SWEEP_ARGS:-} 2>&1 | tee "$OUT/sweep_$sweep.txt"
done
if [ "${SAME_SIZE_COPY:-0}" = 1 ]; then
  stage "same-size copies"; timeout 200 python3 scripts/gpu/same_size_copy.py 2>&1 | tee "$OUT/same_size_copy.txt"
fi
for task in $TASKS; do
  stage "task run $task"
  slice_args=""
  if [ -n "${CASE_SLICE:-}" ]; then
    slice_args=$(python3 -c "import sys; from kernelpilot.harness.spec import load_task; start, stop = sys.argv[2].split(':'); print(' '.join(f'--case {c.id}' for c in load_task(sys.argv[1]).cases[int(start or 0):int(stop) if stop else None]))" "$task" "$CASE_SLICE")
  fi
  if [ "${FILL_GAPS:-0}" = 1 ] || [ -n "${RUN_PLAN:-}" ]; then
    if [ -n "${RUN_PLAN:-}" ]; then
      awk -v task="$task" '!/^#/ && $1 == task {print "kernelpilot task run " $0}' "$RUN_PLAN" > /tmp/planned_runs
    else  # the narrowed runs `task gaps` names (shlex-quoted, hence eval)
      python3 -m kernelpilot task gaps "$task" --json \
        | python3 -c "import json, sys; print(*json.load(sys.stdin)['commands'], sep='\n')" > /tmp/planned_runs
    fi
    : > "$OUT/run_$(basename "$task").txt"
    while read -r run; do
      [ -n "$run" ] && eval "timeout 900 python3 -m $run" >> "$OUT/run_$(basename "$task").txt" 2>&1; echo "rc=$?"
    done < /tmp/planned_runs
  else
    timeout 900 python3 -m kernelpilot task run "$task" ${TASK_RUN_ARGS:-} $slice_args > "$OUT/run_$(basename "$task").txt" 2>&1; echo "rc=$?"
  fi
  tail -40 "$OUT/run_$(basename "$task").txt"
  python3 -m kernelpilot task report "$task" --docs docs
  done_tasks="${done_tasks:-} $task"  # pack after every task, so a run cut short still returns what it finished
  tar czf "$OUT/${TARBALL:-task_results.tar.gz}" $(for t in $done_tasks; do echo "$t/ledgers $t/benchmarks"; done) docs
done
if [ -n "${NCU_FIXTURES:-}" ]; then
  stage "ncu fixtures"; OUT=$OUT timeout 300 scripts/gpu/capture_ncu_fixtures.sh > "$OUT/ncu_capture.txt" 2>&1
  tail -15 "$OUT/ncu_capture.txt"
fi
stage "done"
