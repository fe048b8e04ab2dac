"""The harness measured by itself on a GPU: a plain SM copy through `task bench` against the copy ceiling, and the
same kernel timed twice in one run. Prints one line per figure; the bars are within 5% and under 3%.

`clone_a`/`clone_b` are torch clones (inside a graph, a memcpy node that may run on a copy engine); `triton_copy`
is the SM copy the ceiling is measured with."""

import shutil
import sys
import tempfile
from pathlib import Path

from kernelpilot.harness import environment, runner
from kernelpilot.harness.spec import load_task

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "harness" / "fixtures" / "copy_task"


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / FIXTURE.name
        shutil.copytree(FIXTURE, root)
        task = load_task(root)
        outcome = runner.bench(task, ["clone_a", "clone_b", "triton_copy"])
    rows = {(r["case"], r["impl"]): r for r in outcome.rows}
    print(environment.header(outcome.calibration["env"], "scripts/gpu/harness_fidelity.py"))
    print(f"copy ceiling {outcome.calibration['copy_gbps']:.0f} GB/s, empty kernel "
          f"{outcome.calibration['empty_us']:.2f} us on {outcome.calibration['env']['gpu']}")
    worst_ceiling, worst_repeat = 0.0, 0.0
    for case in ("copy_512mib_f32", "copy_16mib_f32", "copy_4kib_f32"):
        a, b, sm = rows[(case, "clone_a")], rows[(case, "clone_b")], rows[(case, "triton_copy")]
        repeat = abs(a["device_us_p50"] - b["device_us_p50"]) / min(a["device_us_p50"], b["device_us_p50"])
        print(f"{case}: clone_a {a['device_us_p50']:.2f} us ({100 * a['copy_fraction']:.1f}% of ceiling), "
              f"clone_b {b['device_us_p50']:.2f} us, repeat difference {100 * repeat:.2f}%; SM copy "
              f"{sm['device_us_p50']:.2f} us ({100 * sm['copy_fraction']:.1f}% of ceiling)")
        worst_repeat = max(worst_repeat, repeat)
        if case == "copy_512mib_f32":  # the ceiling's own size; smaller copies pay launch and L2 effects
            worst_ceiling = max(worst_ceiling, abs(1 - sm["copy_fraction"]))
    print(f"fidelity: SM copy (512 MiB) within {100 * worst_ceiling:.1f}% of the ceiling (bar 5%), same kernel twice within "
          f"{100 * worst_repeat:.2f}% (bar 3%)")
    return 0 if worst_ceiling <= 0.05 and worst_repeat < 0.03 else 1


if __name__ == "__main__":
    sys.exit(main())
