"""What a task's ledgers still lack on its own GPU model, and the narrowed `task run` commands that would fill it.

For each candidate and baseline: the cases of W it has no passing GPU check for, or no correct timing on the
task's GPU model (an H100's timing of an H200 task is evidence, not the task's measurement), and apart from those
the cases its latest GPU check failed, or the reason it could not be built at all: those want a fix rather than
another run. Besides, the cases with no same-size copy timed there. Read from the ledgers alone (each file once),
so it runs where no GPU (or torch) is.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from kernelpilot.harness import impls, ledgers
from kernelpilot.harness.perfmap import case_checks, gpu_checks
from kernelpilot.harness.spec import Task


@dataclass(frozen=True)
class ImplGaps:
    impl: str
    covered: tuple[str, ...]  # the cases of W it implements the op of
    missing: tuple[str, ...]  # lacking a passing GPU check or a correct timing on the task's GPU model
    failing: tuple[str, ...]  # its latest GPU check of the case failed
    unbuilt: str | None = None  # why its latest GPU check could not build it (then no case is missing or failing)

    @property
    def timed(self) -> int:
        return 0 if self.unbuilt else len(self.covered) - len(self.missing) - len(self.failing)


@dataclass(frozen=True)
class Survey:
    impls: list[ImplGaps]  # in `implementation_names` order (baselines first)
    uncopied: tuple[str, ...]  # cases with no same-size copy timed on the task's GPU model


def survey(task: Task, results: list[dict] | None = None) -> Survey:
    """The task's gaps, from its ledgers (`results`: benchmarks/results.csv's rows, when the caller has them)."""
    results = ledgers.read_results(task.root) if results is None else results
    attempts = ledgers.read_attempts(task.root)
    own_rows = ledgers.own_model_rows(results, task.arch)
    return Survey(_impl_gaps(task, results, own_rows, attempts), _without_copy(task, own_rows))


def _impl_gaps(task: Task, results: list[dict], own_rows: list[dict], attempts: list[dict]) -> list[ImplGaps]:
    timed = {(row["impl"], row["case"]) for row in own_rows
             if row["impl_kind"] != "ceiling" and row["correct"] == "true" and row["device_us_p50"]}
    checks = case_checks(task.root, attempts)
    unbuilt = {a["candidate"]: (a.get("correctness") or {}).get("error") or "error"
               for a in gpu_checks(task.root, attempts) if a["status"] == "error"}
    ops_seen = _ops_seen(task, results, attempts)
    found = []
    for impl in impls.implementation_names(task):
        ops = ops_seen.get(impl) or set(task.ops)
        covered = [c.id for c in task.cases if c.op in ops]
        if checks.get(impl, ("",))[0] == "error":
            found.append(ImplGaps(impl, tuple(covered), (), (), unbuilt[impl]))
            continue
        verdicts = checks.get(impl, ("", {}))[1]
        failing = [case for case in covered if verdicts.get(case) is False]
        missing = [case for case in covered
                   if case not in failing and (not verdicts.get(case) or (impl, case) not in timed)]
        found.append(ImplGaps(impl, tuple(covered), tuple(missing), tuple(failing)))
    return found


def _without_copy(task: Task, own_rows: list[dict]) -> tuple[str, ...]:
    """The cases of W with no same-size copy timed on the task's GPU model: the copy that tells a missed target
    from one below what moving the case's bytes costs (any `task bench` of a case times it first)."""
    copied = {row["case"] for row in own_rows if row["impl"] == "copy_same_size"}
    return tuple(c.id for c in task.cases if c.id not in copied)


def _ops_seen(task: Task, results: list[dict], attempts: list[dict]) -> dict[str, set[str]]:
    """impl -> the ops of the cases any of its checks or timings covered: an implementation that skipped an op
    everywhere it ran does not implement it (one that never ran is taken to implement them all)."""
    op_of = {c.id: c.op for c in task.cases}
    seen: dict[str, set[str]] = {}
    for attempt in attempts:
        cases = (attempt.get("correctness") or {}).get("cases") or {}
        seen.setdefault(attempt["candidate"], set()).update(op_of[c] for c in cases if c in op_of)
    for row in results:
        if row["case"] in op_of:
            seen.setdefault(row["impl"], set()).add(op_of[row["case"]])
    return seen


def fill_commands(task_arg: str, task: Task, found: Survey) -> list[str]:
    """A `kernelpilot task run` for each set of missing cases, naming the implementations that lack exactly that
    set (no --impl when all do, no --case when the set is all of W); then one for the uncopied cases no such run
    covers, with the candidate (else baseline) that has the most timings (a run of a case times its same-size
    copy first)."""
    by_cases: dict[tuple[str, ...], list[str]] = {}
    for gap in found.impls:
        if gap.missing:
            by_cases.setdefault(gap.missing, []).append(gap.impl)
    covered = {case for cases in by_cases for case in cases}
    left = tuple(case for case in found.uncopied if case not in covered)
    if left:
        candidates = [gap for gap in found.impls if gap.impl in task.candidate_names()]
        by_cases.setdefault(left, []).append(max(candidates or found.impls, key=lambda gap: gap.timed).impl)
    every_impl, every_case = len(found.impls), tuple(c.id for c in task.cases)
    commands = []
    for cases, names in by_cases.items():
        words = ["kernelpilot", "task", "run", task_arg]
        if len(names) < every_impl:
            words += [word for name in names for word in ("--impl", name)]
        if cases != every_case:
            words += [word for case in cases for word in ("--case", case)]
        commands.append(shlex.join(words))
    return commands
