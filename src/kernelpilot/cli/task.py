"""`kernelpilot task ...`: a thin layer over kernelpilot.harness."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from kernelpilot.cli.common import add_verb, add_verbs, console, print_json


def register(parser: argparse.ArgumentParser) -> None:
    verbs = add_verbs(parser)
    new = add_verb(verbs, "new", cmd_new, "scaffold a task folder as a fresh git repo from a spec", json_output=True)
    new.add_argument("name", help="task name, e.g. h200_my_op__multi_shape")
    new.add_argument("--spec", required=True, help="YAML with the task.yaml fields plus `cases:` (the workload)")
    new.add_argument("--dir", default=None, help="parent folder (default: the current one)")

    twin = add_verb(verbs, "twin", cmd_twin, "make a task's twin on another arch beside it (it shares K, R and W)",
                    json_output=True)
    twin.add_argument("task", help="the task folder to twin, e.g. kernels/h200_diffusion_norm_infer__multi_shape")
    twin.add_argument("--arch", required=True, help="the twin's arch, e.g. b200")

    listing = add_verb(verbs, "list", cmd_list, "list tasks with arch, status and best geomean", json_output=True)
    listing.add_argument("root", nargs="?", default="kernels", help="folder holding task folders (default: kernels)")

    validate = add_verb(verbs, "validate", cmd_validate, "check task.yaml and workloads.yaml", json_output=True)
    validate.add_argument("task")

    render = add_verb(verbs, "render", cmd_render, "render prompt.md and interface.md from the task data")
    render.add_argument("task")

    check = add_verb(verbs, "check", cmd_check, "check candidates and baselines against the reference over W",
                     json_output=True)
    _common(check)
    check.add_argument("--interpret", action="store_true",
                       help="run Triton under its interpreter on the CPU, on the cases marked `interpret: true`")
    check.add_argument("--trials", type=int, default=None, help="trials per case (default: the task's)")

    compiling = add_verb(verbs, "compile", cmd_compile,
                         "compile each candidate's Triton kernels for the task's arch on the CPU: faults, "
                         "registers, spills, occupancy", json_output=True)
    _common(compiling)
    compiling.add_argument("--all-cases", action="store_true",
                           help="every case of W, not only the small ones (no kernel runs: large cases only need "
                                "their inputs' CPU memory)")

    bench = add_verb(verbs, "bench", cmd_bench, "time candidates and baselines over W on the GPU", json_output=True)
    _common(bench)

    mapping = add_verb(verbs, "map", cmd_map, "build the performance map, dispatch.py and tuning decisions",
                       json_output=True)
    mapping.add_argument("task")
    mapping.add_argument("--run", default=None, help="the bench run to map (default: the latest)")

    run = add_verb(verbs, "run", cmd_run, "check + bench + map, with one summary table", json_output=True)
    _common(run)

    gaps = add_verb(verbs, "gaps", cmd_gaps,
                    "what the ledgers lack on the task's GPU model, and the `task run` commands that fill it",
                    json_output=True)
    gaps.add_argument("task")

    report = add_verb(verbs, "report", cmd_report, "render the task's section of docs/results.md and its plot")
    report.add_argument("task")
    report.add_argument("--docs", default="docs", help="docs folder (default: docs)")

    launch = add_verb(verbs, "launch", cmd_launch, "a git worktree and loop draft for a bundled task, then Claude Code",
                      json_output=True)
    launch.add_argument("task", help="a task under kernels/ (name or path); env: KDA_BASE_BRANCH, KDA_WORKTREE_BASE, "
                                     "KDA_RUN_ID, KDA_NO_CLAUDE, CLAUDE_BIN, CLAUDE_MODEL, CLAUDE_EFFORT, "
                                     "HUMANIZE_CODEX_BYPASS_SANDBOX")

    export = add_verb(verbs, "export", cmd_export, "copy a promoted task's kernels into the kda_kernels package",
                      json_output=True)
    export.add_argument("task")
    export.add_argument("--package", default=None, help="the kda_kernels package folder (default: the importable one)")

    patch = add_verb(verbs, "sglang-patch", cmd_sglang_patch,
                     "regenerate the patch that makes `import sglang` call kda_kernels.install()", json_output=True)
    patch.add_argument("--sglang", action="append", default=None, metavar="VERSION",
                       help="an SGLang release the patch must apply to (repeatable; default: every layout exported)")
    patch.add_argument("--out", default="patches/sglang_kda_kernels.patch", help="the patch file to write")

    fetch = add_verb(verbs, "fetch-baselines", cmd_fetch, "download the SGLang wheels a task's baselines load")
    fetch.add_argument("task", nargs="+")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", help="the task folder (or a path inside it)")
    parser.add_argument("--impl", action="append", default=None, metavar="NAME",
                        help="only this candidate or baseline (repeatable; default: all)")
    parser.add_argument("--case", action="append", default=None, metavar="ID", help="only this case (repeatable)")


def _load(path: str):
    from kernelpilot.harness.spec import load_task

    return load_task(path)


def cmd_new(args) -> int:
    from kernelpilot.harness import scaffold

    root = scaffold.new_task(args.name, Path(args.spec), Path(args.dir or "."))
    if args.json:
        print_json({"task": args.name, "path": str(root)})
    else:
        console().print(f"[green]created[/] {root} (a git repo with its first commit)")
        console().print(f"next: write reference.py and a candidate, then `kernelpilot task check {root} --interpret`")
    return 0


def cmd_twin(args) -> int:
    from kernelpilot.harness import scaffold

    root = scaffold.new_twin(args.task, args.arch)
    if args.json:
        print_json({"task": root.name, "path": str(root)})
    else:
        console().print(f"[green]created[/] {root}", soft_wrap=True)
        console().print(f"next: `kernelpilot task check {root} --interpret`, then on a {args.arch} GPU "
                        f"`kernelpilot task run {root}`", soft_wrap=True)
    return 0


def cmd_list(args) -> int:
    from kernelpilot.harness import tasklist, views

    rows = tasklist.summarize(Path(args.root))
    print_json(rows) if args.json else views.task_list(console(), rows)
    return 0


def cmd_validate(args) -> int:
    task = _load(args.task)
    summary = {"task": task.name, "arch": task.arch, "twin_of": task.twin_of, "ops": list(task.ops),
               "cases": len(task.cases), "candidates": task.candidate_names(), "baselines": list(task.baselines)}
    if args.json:
        print_json(summary)
    else:
        twin = f" (the {task.arch} twin of {task.twin_of})" if task.twin_of else ""
        console().print(f"[green]valid[/] {task.name}{twin}: {len(task.ops)} ops, {len(task.cases)} cases, "
                        f"{len(task.candidate_names())} candidates, {len(task.baselines)} baselines")
    return 0


def cmd_render(args) -> int:
    from kernelpilot.harness import scaffold

    for path in scaffold.render_docs(_load(args.task)):
        console().print(f"wrote {path}")
    return 0


def cmd_check(args) -> int:
    from kernelpilot.harness import runner, views

    task = _load(args.task)
    with views.progress(console(), "checking", quiet=args.json) as report:
        outcome = runner.check(task, args.impl, interpret=args.interpret, case_ids=args.case, trials=args.trials,
                               progress=report)
    if args.json:
        print_json({"interpret": outcome.interpret, "attempts": outcome.attempts, "skipped": outcome.skipped})
    else:
        views.check_table(console(), task, outcome)
    return 0 if all(a["status"] == "correct" for a in outcome.attempts if a["candidate"] not in task.baselines) else 1


def cmd_compile(args) -> int:
    from kernelpilot.harness import runner, views

    task = _load(args.task)
    case_ids = args.case or ([case.id for case in task.cases] if args.all_cases else None)
    with views.progress(console(), "compiling", quiet=args.json) as report:
        outcome = runner.compile_candidates(task, args.impl, case_ids=case_ids, progress=report)
    if args.json:
        print_json({"sm": outcome.sm, "skipped": outcome.skipped,
                    "results": {name: {"error": r.error, "cases": r.cases} for name, r in outcome.results.items()}})
    else:
        views.compile_table(console(), task, outcome)
    return 0 if all(runner.compiled_everywhere(r) for r in outcome.results.values()) else 1


def cmd_bench(args) -> int:
    from kernelpilot.harness import runner, views

    task = _load(args.task)
    with views.progress(console(), "timing", quiet=args.json) as report:
        outcome = runner.bench(task, args.impl, case_ids=args.case, progress=report)
    if args.json:
        print_json({"run_id": outcome.run_id, "rows": outcome.rows, "calibration": outcome.calibration,
                    "failures": outcome.failures})
    else:
        views.bench_table(console(), task, outcome)
    return 0


def cmd_map(args) -> int:
    from kernelpilot.harness import runner, views

    task = _load(args.task)
    perf_map = runner.build_map(task, args.run)
    print_json(perf_map) if args.json else views.map_table(console(), task, perf_map)
    return 0


def cmd_run(args) -> int:
    from kernelpilot.harness import runner, views

    task = _load(args.task)
    gpu = runner.cuda_available()
    with views.progress(console(), "checking", quiet=args.json) as report:
        checked = runner.check(task, args.impl, interpret=not gpu, case_ids=args.case, progress=report)
    if not gpu:
        if args.json:
            print_json({"interpret": True, "attempts": checked.attempts, "skipped": checked.skipped,
                        "timings": "need a CUDA GPU"})
        else:
            views.check_table(console(), task, checked)
            console().print("[yellow]timings need a CUDA GPU:[/] checked correctness under the Triton interpreter "
                            "on the small cases only; run this again on a GPU to bench, map and dispatch.")
        return 0 if all(a["status"] == "correct" for a in checked.attempts
                        if a["candidate"] not in task.baselines) else 1
    with views.progress(console(), "timing", quiet=args.json) as report:
        benched = runner.bench(task, args.impl, case_ids=args.case, progress=report)
    perf_map = runner.build_map(task)
    if args.json:
        print_json({"attempts": checked.attempts, "map": perf_map, "failures": benched.failures})
    else:
        views.check_table(console(), task, checked)
        views.map_table(console(), task, perf_map)
        views.timing_failures(console(), benched.failures)
    return 0


def cmd_gaps(args) -> int:
    from kernelpilot.harness import gaps, views

    task = _load(args.task)
    found = gaps.survey(task)
    commands = gaps.fill_commands(args.task, task, found)
    if args.json:
        print_json({"task": task.name, "arch": task.arch, "cases": len(task.cases),
                    "impls": {g.impl: {"covered": len(g.covered), "timed": g.timed, "missing": list(g.missing),
                                       "failing": list(g.failing), "unbuilt": g.unbuilt} for g in found.impls},
                    "without_same_size_copy": list(found.uncopied), "commands": commands})
    else:
        views.gaps_table(console(), task, found, commands)
    return 0


def cmd_report(args) -> int:
    from kernelpilot.harness import report

    for path in report.write(_load(args.task), Path(args.docs)):
        console().print(f"wrote {path}")
    return 0


def cmd_fetch(args) -> int:
    from kernelpilot.harness.sglang import fetch_wheels

    versions = sorted({b.version for path in args.task for b in _load(path).baselines.values()
                       if b.kind == "sglang" and b.version})
    for wheel in fetch_wheels(versions):
        console().print(f"have {wheel}")
    return 0


def cmd_launch(args) -> int:
    import subprocess
    from pathlib import Path

    from kernelpilot.harness.worktree import launch

    prepared = launch(args.task, Path.cwd())
    if args.json:
        print_json(vars(prepared))
        return 0
    out = console()
    out.print(f"worktree {prepared.worktree} on branch {prepared.branch} (from {prepared.base})", soft_wrap=True)
    out.print(f"draft    {prepared.draft}", soft_wrap=True)
    out.print("plan and loop, from the task folder:")
    for line in prepared.commands:
        out.print(f"  {line}", soft_wrap=True, markup=False)
    if prepared.agent is None:
        return 0
    out.print(f"starting {prepared.agent[0]} in {prepared.project}", soft_wrap=True)
    try:
        return subprocess.call(prepared.agent, cwd=prepared.project)
    except OSError as exc:
        from kernelpilot.errors import KernelPilotError

        raise KernelPilotError(f"cannot start {prepared.agent[0]}: {exc} (set CLAUDE_BIN, or KDA_NO_CLAUDE=1)")


def cmd_export(args) -> int:
    from kernelpilot.export.package import export_task

    exported = export_task(args.task, Path(args.package) if args.package else None)
    if args.json:
        print_json(dataclasses.asdict(exported))  # the folder as a string, by print_json's default=str
    else:
        what = "exported" if exported.changed else "unchanged"
        optimized = ", ".join(f"{fn} ({'optimized' if yes else 'SGLang kept'})" for fn, yes in exported.optimized.items())
        console().print(f"[green]{what}[/] {exported.task} -> {exported.folder} [{exported.arch}]: {optimized}")
    return 0


def cmd_sglang_patch(args) -> int:
    from kernelpilot.export.sglang_patch import exported_layouts, regenerate

    versions = args.sglang or exported_layouts()
    written = regenerate(versions, Path(args.out))
    if args.json:
        print_json({"patch": str(written), "applies_to": versions})
    else:
        console().print(f"wrote {written}: applies to sglang {', '.join(versions)} (git apply --check)")
    return 0
