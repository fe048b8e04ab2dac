#!/usr/bin/env bash
# Capture the real Nsight Compute reports behind tests/ncu/fixtures on a GPU machine (H100/H200, ncu >= 2024).
#
#   OUT=/some/dir scripts/gpu/capture_ncu_fixtures.sh      (run from anywhere; it finds the repository itself)
#   OUT=/some/dir NCU_FIXTURES="tail_chase copy" scripts/gpu/capture_ncu_fixtures.sh   (only these, one report each)
#
# Profiles the kernels of tests/ncu/fixture_kernels.py (one per bottleneck class) with the capture recipe of
# `kernelpilot ncu capture` (full set, source import, the named sections, clocks left alone, kernel filtered by
# name, warm-up launch skipped), exports the raw and details CSVs, and packs everything into ONE tarball,
# $OUT/ncu_fixtures.tar.gz, plus a copy of the log. Designed to finish in under four minutes: every step has a
# timeout and no new capture starts after the deadline. A failing fixture is logged and skipped.
set -u

OUT=${OUT:?set OUT to the folder that receives ncu_fixtures.tar.gz}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STAGE=$OUT/ncu
LOG=$STAGE/capture.log
DEADLINE_S=${NCU_FIXTURE_DEADLINE_S:-165}
PYTHON=${PYTHON:-python3}
KERNELS=$ROOT/tests/ncu/fixture_kernels.py
mkdir -p "$STAGE"
: >"$LOG"

log() { echo "[$(date +%H:%M:%S) +${SECONDS}s] $*" | tee -a "$LOG"; }
past_deadline() { [ "$SECONDS" -ge "$DEADLINE_S" ]; }

export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

# ncu and the recipe's flags come from kernelpilot.ncu.capture (stdlib only): find_ncu and recipe_flags are the
# functions `kernelpilot ncu capture` builds its command line with.
NCU=$("$PYTHON" -c 'from kernelpilot.ncu.capture import find_ncu; print(find_ncu())' 2>>"$LOG")
if [ -z "$NCU" ]; then
    log "FATAL: ncu not found (\$KERNELPILOT_NCU, PATH, /opt/nvidia/nsight-compute/*/ncu, /usr/local/cuda)"
    tar czf "$OUT/ncu_fixtures.tar.gz" -C "$OUT" ncu
    exit 1
fi
log "ncu: $NCU"

# ------------------------------------------------------------------ environment, for the record and for the tests
{
    echo "== ncu --version"; "$NCU" --version
    echo "== nvidia-smi"; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv
    echo "== python"; "$PYTHON" -c 'import sys, torch, triton; print(sys.version); print("torch", torch.__version__, "cuda", torch.version.cuda); print("triton", triton.__version__); p = torch.cuda.get_device_properties(0); print(p.name, "SMs", p.multi_processor_count, "L2", getattr(p, "L2_cache_size", "?"))'
} >"$STAGE/environment.txt" 2>&1
timeout 30 "$NCU" --list-sets >"$STAGE/list_sets.txt" 2>&1
timeout 30 "$NCU" --list-sections >"$STAGE/list_sections.txt" 2>&1
timeout 30 "$NCU" --help >"$STAGE/ncu_help.txt" 2>&1
timeout 30 "$NCU" --query-metrics >"$STAGE/query_metrics.txt" 2>&1
cat "$STAGE/environment.txt" | tee -a "$LOG"

# The recipe, one flag a line, with the sections trimmed to those this ncu lists (PM sampling only where listed).
mapfile -t RECIPE < <("$PYTHON" -c 'import sys
from kernelpilot.ncu.capture import listed_sections, recipe_flags
print(*recipe_flags(listed_sections(sys.argv[1])), sep="\n")' "$NCU" 2>>"$LOG")
if [ "${#RECIPE[@]}" = 0 ]; then
    log "FATAL: no recipe from kernelpilot.ncu.capture.recipe_flags (see the log)"
    tar czf "$OUT/ncu_fixtures.tar.gz" -C "$OUT" ncu
    exit 1
fi
log "recipe: ${RECIPE[*]}"

# Fill Triton's cache (and log registers/spills/grids) without the profiler, so captures time only profiling.
ONLY=${NCU_FIXTURES:-}
log "warm-up: compiling and running ${ONLY:-every fixture} once"
timeout 120 "$PYTHON" "$KERNELS" ${ONLY:-all} >"$STAGE/warmup.txt" 2>&1
log "warm-up rc=$? ($(grep -c FAILED "$STAGE/warmup.txt") failed)"
grep -E "^fixture|blocks/SM" "$STAGE/warmup.txt" | tee -a "$LOG"

export_csvs() {  # export_csvs DIR [extra]: raw (base units) and details CSVs; with extra, the quirk variants too
    local dir=$1 report=$1/report.ncu-rep
    [ -f "$report" ] || return 1
    [ -s "$dir/raw.csv" ] || timeout 30 "$NCU" -i "$report" --page raw --csv --print-units base >"$dir/raw.csv" 2>"$dir/export.err"
    [ -s "$dir/details.csv" ] || timeout 30 "$NCU" -i "$report" --page details --csv >"$dir/details.csv" 2>>"$dir/export.err"
    if [ "${2:-}" = extra ]; then
        timeout 30 "$NCU" -i "$report" --page raw --csv >"$dir/raw_autounits.csv" 2>>"$dir/export.err"
        timeout 30 "$NCU" -i "$report" --page details --csv --print-units base >"$dir/details_baseunits.csv" 2>>"$dir/export.err"
        timeout 30 "$NCU" -i "$report" --page details --csv --print-metric-name name >"$dir/details_metricnames.csv" 2>>"$dir/export.err"
        timeout 30 "$NCU" -i "$report" --page details --print-details all >"$dir/details_all.txt" 2>>"$dir/export.err"
        timeout 30 "$NCU" -i "$report" --page source --csv --print-source sass >"$dir/source_sass.csv" 2>>"$dir/export.err"
    fi
    [ -s "$dir/raw.csv" ] && [ -s "$dir/details.csv" ]
}

plain_capture() {  # plain_capture DIR REGEX SKIP COUNT COMMAND...: the same recipe without kernelpilot
    local dir=$1 regex=$2 skip=$3 count=$4
    shift 4
    timeout 75 "$NCU" "${RECIPE[@]}" -k "regex:$regex" --launch-skip "$skip" --launch-count "$count" \
        -o "$dir/report" "$@" >"$dir/ncu_stdout.txt" 2>&1
}

# ------------------------------------------------------------------ 1. every fixture kernel in one report
# One process, one launch of each kernel: cheap, and a real multi-kernel report for the --kernel tests.
if [ -z "$ONLY" ]; then
    COUNT=$("$PYTHON" "$KERNELS" --list | wc -l)
    mkdir -p "$STAGE/all_kernels"
    log "capture all_kernels ($COUNT kernels)"
    plain_capture "$STAGE/all_kernels" '^fx_' 0 "$COUNT" "$PYTHON" "$KERNELS" all
    log "all_kernels: ncu rc=$?"
    if export_csvs "$STAGE/all_kernels" extra; then log "all_kernels: exported"; else log "all_kernels: FAILED (see ncu_stdout.txt)"; fi
fi

# ------------------------------------------------------------------ 2. one report per fixture, warm-up skipped
HAVE_KP=0
if "$PYTHON" -m kernelpilot ncu capture --help >/dev/null 2>&1; then HAVE_KP=1; fi
log "kernelpilot ncu capture available: $HAVE_KP"

FAILED=()
while read -r name regex klass; do
    if past_deadline; then log "$name: SKIPPED (deadline ${DEADLINE_S}s reached)"; FAILED+=("$name(skipped)"); continue; fi
    dir=$STAGE/$name
    mkdir -p "$dir"
    echo "$klass" >"$dir/intended_class.txt"
    log "capture $name ($regex, intended $klass)"
    ok=0
    if [ "$HAVE_KP" = 1 ]; then
        timeout 60 "$PYTHON" -m kernelpilot ncu capture --kernel "$regex" --launch-skip 1 --out "$dir" \
            -- "$PYTHON" "$KERNELS" "$name" --warmup >"$dir/kernelpilot_capture.txt" 2>&1
        rc=$?
        log "$name: kernelpilot ncu capture rc=$rc"
        [ "$rc" = 0 ] && [ -s "$dir/raw.csv" ] && ok=1
    fi
    if [ "$ok" = 0 ]; then
        plain_capture "$dir" "$regex" 1 1 "$PYTHON" "$KERNELS" "$name" --warmup
        log "$name: plain ncu rc=$?"
    fi
    case $name in copy|gemm_bf16|row_center_spill) extra=extra ;; *) extra= ;; esac
    if export_csvs "$dir" $extra; then log "$name: ok"; else log "$name: FAILED"; FAILED+=("$name"); fi
done < <("$PYTHON" "$KERNELS" --list | while read -r name rest; do
             if [ -z "$ONLY" ] || [[ " $ONLY " == *" $name "* ]]; then echo "$name $rest"; fi
         done)

# ------------------------------------------------------------------ pack: one tarball, big reports left out
log "failed or skipped: ${FAILED[*]:-none}"
find "$STAGE" -name '*.ncu-rep' -size +2M -printf '%p %s bytes: dropped (over 2 MB)\n' -delete | tee -a "$LOG"
du -sh "$STAGE" | tee -a "$LOG"
log "packing"
tar czf "$OUT/ncu_fixtures.tar.gz" -C "$OUT" ncu && cp "$LOG" "$OUT/capture.log" && rm -rf "$STAGE"
ls -la "$OUT"
