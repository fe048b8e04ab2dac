"""Rich renderings of the harness's outcomes: progress while working, one table when done."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from kernelpilot.harness import report
from kernelpilot.harness.spec import Task

_us = report.number


def _x(value) -> str:
    return report.speedup(value, missing="")


# Names are what the command line takes (--impl, --case): kept on one line while the other columns can give way,
# folded rather than cut short when they cannot.
_NAME_STYLE = {"no_wrap": True, "overflow": "fold"}


def _verdict_style(column: str) -> dict:
    """A check or compile table's columns: the candidate's name and its one-word verdict never give way."""
    return _NAME_STYLE if column == "implementation" else {"no_wrap": column == "status"}


@contextmanager
def progress(console, verb: str, quiet: bool = False) -> Iterator:
    """Yields a callback(impl, case, result) that advances a live status line."""
    if quiet:
        yield lambda *a: None
        return
    status = console.status(f"{verb}…")
    with status:
        def report(impl: str, case_id: str, result: dict) -> None:
            ok = result.get("passed", result.get("correct"))
            mark = "[green]✓[/]" if ok else "[red]✗[/]"
            console.log(f"{mark} {impl} {case_id}" + (f" — {result['error']}" if result.get("error") else ""))
            status.update(f"{verb}: {impl} {case_id}")
        yield report


def check_table(console, task: Task, outcome) -> None:
    from rich.table import Table

    where = "Triton interpreter on the CPU (small cases)" if outcome.interpret else "GPU"
    table = Table(title=f"{task.name}: correctness ({where})")
    for column in ("implementation", "status", "cases passed", "worst rel err", "first failure"):
        table.add_column(column, **_verdict_style(column))
    for attempt in outcome.attempts:
        correctness = attempt["correctness"]
        cases = correctness["cases"]
        errors = [c["rel_err"] for c in cases.values() if c.get("rel_err") is not None]
        failure = next((f"{k}: {c['error']}" for k, c in cases.items() if not c["passed"]),
                       correctness.get("error", ""))
        colour = "green" if attempt["status"] == "correct" else "red"
        table.add_row(attempt["candidate"], f"[{colour}]{attempt['status']}[/]",
                      f"{sum(c['passed'] for c in cases.values())}/{len(cases)}",
                      f"{max(errors):.2e}" if errors else "", (failure or "")[:120])
    for name, why in outcome.skipped.items():
        table.add_row(name, "[yellow]skipped[/]", "", "", why)
    console.print(table)


def compile_table(console, task: Task, outcome) -> None:
    from rich.table import Table

    from kernelpilot.harness.runner import compile_failure

    table = Table(title=f"{task.name}: Triton kernels compiled for {outcome.sm} on this machine")
    for column in ("implementation", "status", "cases compiled", "kernels", "replayable", "first failure or refusal"):
        table.add_column(column, **_verdict_style(column))
    for name, result in outcome.results.items():
        failure = compile_failure(result)
        kernels = sorted({k for c in result.cases.values() for k in c.get("kernels", [])})
        verdicts = [c.get("replay") or "" for c in result.cases.values()]
        refusals = [v for v in verdicts if not v.startswith("replayable")]
        replayable = f"{len(verdicts) - len(refusals)}/{len(verdicts)}"
        table.add_row(name, "[red]fails[/]" if failure else "[green]compiles[/]",
                      f"{sum(c['passed'] for c in result.cases.values())}/{len(result.cases)}", ", ".join(kernels),
                      replayable, (failure or next(iter(refusals), "").removeprefix("not replayable: "))[:120])
    for name, why in outcome.skipped.items():
        table.add_row(name, "[yellow]skipped[/]", "", "", "", why)
    console.print(table)
    resources_table(console, outcome)


def resources_table(console, outcome) -> None:
    """One row per candidate and kernel: its range of registers, any spill, the share of its global loads and
    stores that move 16 bytes, the range of its loads written after the first shuffle or barrier (each a round
    trip a latency-bound kernel waits for after an earlier one), and the case where it holds the fewest warps per
    SM (what caps a memory-bound kernel's bytes in flight), with the instructions a thread has there (in its loop
    body, if it loops)."""
    from rich.table import Table

    from kernelpilot.harness.resources import MAX_WARPS_PER_SM

    table = Table(title=f"registers, access widths and occupancy on {outcome.sm}, from the cubins")
    for column in ("implementation", "kernel", "warps/block", "registers/thread", "spills (local B/thread)",
                   "128-bit loads, stores", "loads after 1st exchange", "fewest warps/SM", "instructions (loop)",
                   "on case"):
        table.add_column(column, **_NAME_STYLE if column in ("implementation", "kernel", "on case") else {})
    for name, result in outcome.results.items():
        usage: dict[str, list[tuple[str, dict]]] = {}
        for case_id, case in result.cases.items():
            for kernel in case.get("resources", []):
                usage.setdefault(kernel["kernel"], []).append((case_id, kernel))
        for kernel, seen in usage.items():
            warps = sorted({k["warps"] for _, k in seen})
            registers = [k["registers"] for _, k in seen]
            spill = max(k["local_bytes"] for _, k in seen)
            case_id, fewest = min(seen, key=lambda item: item[1]["resident_warps"])
            table.add_row(name, kernel, _span(warps[0], warps[-1]), _span(min(registers), max(registers)),
                          f"[red]{spill}[/]" if spill else "none",
                          f"{_wide_share(k['global_loads'] for _, k in seen)}, "
                          f"{_wide_share(k['global_stores'] for _, k in seen)}",
                          _span(min(k["late_loads"] for _, k in seen), max(k["late_loads"] for _, k in seen)),
                          f"{fewest['resident_warps']}/{MAX_WARPS_PER_SM} ({fewest['limited_by']})",
                          _instructions(fewest), case_id)
    if table.rows:
        console.print(table)
    for name, result in outcome.results.items():
        unread = next((c["resources_error"] for c in result.cases.values() if c.get("resources_error")), None)
        if unread:
            console.print(f"[yellow]{name}: resources not read[/] ({unread})")


def _instructions(kernel: dict) -> str:
    loop = kernel["loop_instructions"]
    return f"{kernel['instructions']} ({loop})" if loop else str(kernel["instructions"])


def _wide_share(counts) -> str:
    """"wide/all" over the instruction counts by width (keyed by the bits as a string)."""
    total = wide = 0
    for by_width in counts:
        for bits, count in by_width.items():
            total += count
            wide += count if bits == "128" else 0
    return f"{wide}/{total}"


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def bench_table(console, task: Task, outcome) -> None:
    from rich.table import Table

    env = outcome.calibration["env"]
    table = Table(title=f"{task.name}: run {outcome.run_id} on {env.get('gpu')} "
                        f"(copy ceiling {outcome.calibration['copy_gbps']:.0f} GB/s, "
                        f"empty kernel {outcome.calibration['empty_us']:.2f} µs)")
    for column in ("case", "impl", "ok", "device µs", "host µs", "do_bench µs", "GB/s", "% copy", "speedup dev",
                   "target µs"):
        table.add_column(column, justify="right" if column not in ("case", "impl") else "left")
    for row in outcome.rows:
        if row["impl_kind"] == "ceiling":
            continue
        table.add_row(row["case"], row["impl"], "✓" if row["correct"] else "[red]✗[/]", _us(row["device_us_p50"]),
                      _us(row["host_us_p50"]), _us(row["dobench_us_p50"]),
                      f"{row['gbps']:.0f}" if row.get("gbps") else "",
                      f"{100 * row['copy_fraction']:.0f}%" if row.get("copy_fraction") else "",
                      _x(row.get("speedup_device")), _us(row.get("target_us")))
    console.print(table)
    timing_failures(console, outcome.failures)


def timing_failures(console, failures: dict[str, str]) -> None:
    for name, why in failures.items():
        console.print(f"[red]{name}[/]: no timings ({why})")


def map_table(console, task: Task, perf_map: dict) -> None:
    from rich.table import Table

    summary = perf_map["summary"]
    table = Table(title=f"{task.name}: after dispatch (run {perf_map['run_id']}, {perf_map['env']['gpu']})")
    for column in ("case", "winner", "device µs", "best baseline µs", "speedup", "target µs", "met", "host µs",
                   "host target µs", "host met"):
        table.add_column(column, justify="left" if column in ("case", "winner") else "right")
    for op in perf_map["ops"].values():
        for case in op["cases"]:
            winner = case["impls"].get(case["winner"], {})
            base = case["impls"].get(case.get("fastest_target_baseline") or "", {})
            table.add_row(case["case"], case["winner"], _us(winner.get("device_us")), _us(base.get("device_us")),
                          _x(case.get("speedup_device")), _us(case["target_us"]), _mark(case["meets_target"]),
                          _us(winner.get("host_us")), _us(case.get("host_target_us")),
                          _mark(case.get("meets_host_target")))
    console.print(table)
    console.print(f"geomean speedup over the best target baseline: device {_x(summary['geomean_speedup_device'])}, "
                  f"host {_x(summary['geomean_speedup_host'])}, do_bench {_x(summary['geomean_speedup_dobench'])}; "
                  f"{summary['cases_meeting_target']}/{summary['cases']} cases meet the device target, "
                  f"{summary.get('cases_meeting_host_target', 0)}/{summary['cases']} the host target"
                  f"{report.partial_note(summary)}")


def _mark(value) -> str:
    return "" if value is None else ("[green]yes[/]" if value else "[red]no[/]")


def task_list(console, rows: list[dict]) -> None:
    from rich.table import Table

    table = Table(title="tasks")
    table.add_column("task", overflow="fold")  # a task's name is how it is named on the command line: never cut it
    for column in ("arch", "status", "best geomean (device)", "cases"):
        table.add_column(column)
    for row in rows:
        # No map yet: timings come only from a GPU of the task's arch (a B200 twin cannot be measured on Hopper).
        geomean = _x(row["best_geomean_device"]) or f"needs {row['arch']}"
        table.add_row(row["task"], row["arch"], row["status"], geomean, str(row["cases"]))
    console.print(table)


def gaps_table(console, task: Task, found, commands: list[str]) -> None:
    """`task gaps`: per implementation what it lacks, then why some fail, the uncopied cases and the commands."""
    from rich.markup import escape
    from rich.table import Table

    title = f"{task.name}: what the ledgers lack on an {task.arch.upper()} ({len(task.cases)} cases of W)"
    table = Table(title=title)
    for column in ("implementation", "checked and timed", "to run", "to fix first"):
        table.add_column(column, justify="left" if column == "implementation" else "right")
    for gap in found.impls:
        complete = not (gap.missing or gap.failing or gap.unbuilt)
        to_fix = "does not build" if gap.unbuilt else (f"{len(gap.failing)} failing" if gap.failing else "")
        table.add_row(gap.impl, f"[{'green' if complete else 'yellow'}]{gap.timed}/{len(gap.covered)}[/]",
                      str(len(gap.missing) or ""), f"[red]{to_fix}[/]")
    console.print(table)
    for gap in found.impls:
        if gap.unbuilt or gap.failing:
            why = gap.unbuilt or f"its latest GPU check failed {', '.join(gap.failing)}"
            console.print(f"[red]{escape(gap.impl)}[/]: {escape(why)}", soft_wrap=True)
    if found.uncopied:
        console.print(f"no same-size copy timed on the task's GPU model for {len(found.uncopied)} of the "
                      f"{len(task.cases)} cases (it tells a missed target from the cost of moving the bytes)")
    if not commands:
        console.print("nothing to run: every implementation that builds is checked and timed on every case it covers, "
                      "and every case has its same-size copy")
        return
    console.print("to fill the gaps on the task's GPU:")
    for command in commands:
        console.print(f"  {command}", soft_wrap=True, markup=False)
