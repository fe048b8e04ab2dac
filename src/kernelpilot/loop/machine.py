"""The loop's state machine: start, the decision at every stop, cancel and status.

Phases: work -> (reviewer says COMPLETE) -> code_review -> (clean) -> finalize -> complete. Every blocked stop
ends the round and opens the next one with a rendered prompt; the round limit ends the loop cleanly. Terminal
states (complete, cancel, maxiter, stop, unexpected) stay on disk in state.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_json, atomic_write_text
from kernelpilot.loop import git, layout
from kernelpilot.loop.config import load_config
from kernelpilot.loop.render import render
from kernelpilot.schemas import schema_errors, validate

MAX_REVIEWER_FAILURES = 3
STALLS_TO_REPLAN, STALLS_TO_STOP = 2, 3


class StateUnreadable(Exception):
    """state.json is not valid JSON or breaks its schema."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Loop:
    project: Path
    loop_id: str

    @property
    def dir(self) -> Path:
        return Path(layout.loop_dir(str(self.project), self.loop_id))

    def path(self, name: str) -> Path:
        return self.dir / name

    def round_path(self, number: int, kind: str) -> Path:
        return Path(layout.round_file(str(self.dir), number, kind))

    def rel(self, path: Path) -> str:
        return os.path.relpath(path, self.project)

    def load(self) -> dict:
        try:
            state = json.loads(self.path(layout.STATE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StateUnreadable("state.json is missing") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateUnreadable(f"state.json is not valid JSON ({exc})") from None
        problems = schema_errors(state, "loop-state")
        if problems:
            raise StateUnreadable(f"state.json breaks its schema ({problems[0]})")
        return state

    def save(self, state: dict) -> None:
        state["updated_at"] = now()
        validate(state, "loop-state", str(self.path(layout.STATE)))
        atomic_write_json(self.path(layout.STATE), state)

    def set_pointer(self, session_id: str | None) -> None:
        atomic_write_json(layout.active_file(str(self.project)), {"loop_id": self.loop_id, "session_id": session_id})

    def clear_pointer(self) -> None:
        pointer = layout.read_active(str(self.project))
        if pointer is not None and pointer.get("loop_id") in (self.loop_id, None):
            Path(layout.active_file(str(self.project))).unlink(missing_ok=True)

    def quarantine(self, reason: str) -> str:
        """Set an unreadable state file aside (kept, never deleted), end the loop, and say so."""
        source = self.path(layout.STATE)
        kept = self.path(f"state.corrupt-{time.strftime('%Y%m%d-%H%M%S')}.json")
        if source.exists():
            os.replace(source, kept)
        self.clear_pointer()
        return (f"kernelpilot loop {self.loop_id}: {reason}. The file is kept as {self.rel(kept)}; the loop is ended "
                f"(unexpected) and its round files are untouched. Start a new loop with `kernelpilot loop start`.")


# ---------------------------------------------------------------- start


def start_loop(plan_file: Path, cwd: Path, flags: dict, session_id: str | None, task: Path | None) -> tuple[Loop, str]:
    from kernelpilot.loop.gate import hardware_deferrals, visible_gpus
    from kernelpilot.loop.plan import parse_plan, parse_task_table, plan_problems, plan_task_dir

    project = git.toplevel(cwd).resolve()
    base_commit = git.head_commit(project)
    dirty = git.dirty_paths(project)
    if dirty:
        raise KernelPilotError(f"the working tree is not clean ({len(dirty)} path(s), e.g. {dirty[0]}): commit first")
    plan_path = plan_file if plan_file.is_absolute() else (cwd / plan_file)
    if plan_path.is_symlink():
        raise KernelPilotError(f"{plan_file} is a symlink: give the plan file itself")
    plan_path = plan_path.resolve()
    if not plan_path.is_file():
        raise KernelPilotError(f"{plan_file}: no such plan file")
    if project not in plan_path.parents:
        raise KernelPilotError(f"{plan_file} is outside the project {project}")
    pointer = layout.read_active(str(project))
    if pointer is not None:
        raise KernelPilotError(f"loop {pointer.get('loop_id', '?')} is already active in {project}: "
                               "`kernelpilot loop cancel` it first" if "damaged" not in pointer else
                               f"the active-loop pointer is damaged ({pointer['damaged']}): "
                               "`kernelpilot loop cancel --force` first")
    plan_text = plan_path.read_text(encoding="utf-8")
    named = task or plan_task_dir(plan_text)
    task_dir = (project / named).resolve() if named else None
    problems = plan_problems(plan_text, task_dir)  # also fails when task_dir has no workloads.yaml
    if problems:
        raise KernelPilotError(f"{plan_file}: {problems[0]}" + (f" (and {len(problems) - 1} more; see "
                               f"`kernelpilot plan validate {plan_file}`)" if len(problems) > 1 else ""))
    config = load_config(project, flags)
    git.exclude_humanize(project)

    loop = Loop(project, f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}")
    loop.dir.mkdir(parents=True)
    plan = parse_plan(plan_text)
    deferred = hardware_deferrals(plan_text, visible_gpus())
    tracker = render("goal-tracker.md", loop_id=loop.loop_id, goal=plan.sections["goal"],
                     acceptance=plan.sections["acceptance"], deferred=deferred,
                     tasks=[f"{row[0]}: {row[1]}" for row in parse_task_table(plan.sections["tasks"])[1]])
    atomic_write_text(loop.path(layout.PLAN_COPY), plan_text)
    atomic_write_text(loop.path(layout.GOAL_TRACKER), tracker)
    stamp = now()
    state = {
        "schema_version": 1, "loop_id": loop.loop_id, "project": str(project), "session_id": session_id or None,
        "status": "active", "phase": "work", "round": 0, "max_rounds": config["max_rounds"],
        "base_branch": config["base_branch"] or git.current_branch(project), "base_commit": base_commit,
        "plan_source": str(plan_path.relative_to(project)), "plan_sha256": sha256_text(plan_text),
        "goal_sha256": sha256_text(layout.immutable_section(tracker) or ""),
        "task_dir": str(task_dir) if task_dir else None, "config": config, "stalls": 0, "reviewer_failures": 0,
        "deferred": deferred, "history": [], "started_at": stamp, "updated_at": stamp, "ended_at": None,
        "end_reason": None,
    }
    loop.save(state)
    prompt = round_prompt(loop, state, feedback="")
    atomic_write_text(loop.round_path(0, "prompt"), prompt)
    loop.set_pointer(state["session_id"])
    return loop, prompt


def round_prompt(loop: Loop, state: dict, feedback: str, replan: bool = False) -> str:
    number = state["round"]
    return render("round-prompt.md", loop_id=loop.loop_id, round=number, max_rounds=state["max_rounds"],
                  phase=state["phase"], feedback=feedback.strip(), replan=replan,
                  contract_path=loop.rel(loop.round_path(number, "contract")),
                  summary_path=loop.rel(loop.round_path(number, "summary")),
                  goal_tracker_path=loop.rel(loop.path(layout.GOAL_TRACKER)),
                  plan_path=loop.rel(loop.path(layout.PLAN_COPY)), task_dir=state["task_dir"],
                  deferred=state["deferred"])


# ---------------------------------------------------------------- the stop hook


def stop_hook(project: str, pointer: dict, payload: dict) -> dict | None:
    """The decision for one stop attempt of the owning session: a block with the next round's prompt, or None/a
    systemMessage to let the session stop."""
    if "damaged" in pointer:
        return {"systemMessage": f"kernelpilot loop: the active-loop pointer is damaged ({pointer['damaged']}); "
                                 "the stop is allowed. Run `kernelpilot loop cancel --force` to clear it."}
    loop = Loop(Path(project), pointer["loop_id"])
    try:
        state = loop.load()
    except StateUnreadable as exc:
        return {"systemMessage": loop.quarantine(str(exc))}
    if state["status"] != "active":
        loop.clear_pointer()
        return None
    if state["session_id"] is None:  # the first session to stop after an unbound start owns the loop
        state["session_id"] = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
        loop.set_pointer(state["session_id"])
    return Round(loop, state).decide()


class Round:
    """One stop attempt: preconditions, gate, reviewer, then block or end."""

    def __init__(self, loop: Loop, state: dict):
        self.loop, self.state = loop, state
        self.number, self.phase = state["round"], state["phase"]
        self.gate_lines: list[str] = []

    def decide(self) -> dict | None:
        problems = self.preconditions()
        if problems:
            return self.block("round incomplete", "\n".join(f"- {p}" for p in problems),
                              "finish the round's files and commit")
        summary = self.loop.round_path(self.number, "summary").read_text(encoding="utf-8")
        if self.state["task_dir"]:
            from kernelpilot.loop.gate import run_gate

            report = run_gate(Path(self.state["task_dir"]), summary,
                              self.loop.rel(self.loop.round_path(self.number, "summary")))
            self.gate_lines = report.lines()
            if not report.ok:
                return self.block("evidence gate failed (reviewer not called)",
                                  "The evidence gate failed; fix each of these (the reviewer was not called):\n"
                                  + "\n".join(f"- {p}" for p in report.problems), "fix the evidence gate's findings")
        if self.phase == "finalize":
            return self.end("complete", "finalized after a clean review")
        if self.phase == "code_review":
            return self.code_review()
        return self.review(summary)

    def preconditions(self) -> list[str]:
        problems = []
        kinds = ("summary",) if self.phase == "finalize" else ("contract", "summary")
        for kind in kinds:
            path = self.loop.round_path(self.number, kind)
            if not path.is_file() or not path.read_text(encoding="utf-8").strip():
                problems.append(f"write the round {kind}: {self.loop.rel(path)}")
        dirty = git.dirty_paths(self.loop.project)
        if dirty:
            problems.append(f"commit your work: {len(dirty)} uncommitted path(s), e.g. {dirty[0]}")
        problems += self.plan_changes()
        return problems

    def plan_changes(self) -> list[str]:
        problems = []
        source = self.loop.project / self.state["plan_source"]
        for label, path in (("the plan", source), ("the loop's plan copy", self.loop.path(layout.PLAN_COPY))):
            text = path.read_text(encoding="utf-8") if path.is_file() else None
            if text is None or sha256_text(text) != self.state["plan_sha256"]:
                problems.append(f"{label} ({self.loop.rel(path)}) changed or vanished since the loop began: restore it "
                                f"(git checkout {self.state['base_commit'][:12]} -- {self.state['plan_source']})")
        tracker = self.loop.path(layout.GOAL_TRACKER)
        section = layout.immutable_section(tracker.read_text(encoding="utf-8")) if tracker.is_file() else None
        if section is None or sha256_text(section) != self.state["goal_sha256"]:
            problems.append(f"the goal section of {self.loop.rel(tracker)} was changed or removed: restore it")
        return problems

    # ------------------------------------------------------------ reviewers

    def reviewed(self, code_review: bool, prompt: str) -> tuple[str, dict | None]:
        """Run the (code) reviewer; (its output, None) or ("", the decision when it failed or the loop ended)."""
        from kernelpilot.loop.reviewer import review_argv, run_review

        config, kind = self.state["config"], "code-review" if code_review else "review"
        argv = review_argv(config, code_review, self.state["base_commit"])
        run = run_review(argv, prompt, self.loop.project, float(config["review_timeout"]), self.loop.dir,
                         f"round-{self.number}-{kind}",
                         {"KERNELPILOT_REVIEW_PHASE": kind, "KERNELPILOT_LOOP_DIR": str(self.loop.dir),
                          "KERNELPILOT_BASE_COMMIT": self.state["base_commit"]})
        if run.failure:
            return "", self.reviewer_failed(run.failure)
        if self.cancelled_meanwhile():
            return "", self.cancelled_message()
        self.state["reviewer_failures"] = 0
        atomic_write_text(self.loop.round_path(self.number, kind), run.output)
        return run.output, None

    def reviewer_failed(self, failure: str) -> dict | None:
        if self.cancelled_meanwhile():
            return self.cancelled_message()
        self.state["reviewer_failures"] += 1
        if self.state["reviewer_failures"] >= MAX_REVIEWER_FAILURES:
            return self.end("unexpected", f"the reviewer failed {MAX_REVIEWER_FAILURES} times in a row: {failure}")
        return self.block(f"review failed: {failure}", f"The review could not be made: {failure}. Nothing is "
                          "required of you: stop again to retry the review.", "stop again to retry the review",
                          advance=False)

    def cancelled_meanwhile(self) -> bool:
        try:
            return self.loop.load()["status"] != "active"
        except StateUnreadable:
            return True

    def cancelled_message(self) -> dict:
        return {"systemMessage": f"kernelpilot loop {self.loop.loop_id} ended while the review ran; the stop is "
                                 "allowed"}

    def review(self, summary: str) -> dict | None:
        from kernelpilot.loop.reviewer import parse_verdict

        output, outcome = self.reviewed(False, self.review_prompt(summary))
        if outcome is not None:
            return outcome
        verdict, mainline = parse_verdict(output)
        if verdict == "STOP":
            return self.end("stop", "the reviewer said STOP", verdict, mainline)
        if verdict == "COMPLETE":
            if not self.state["config"]["code_review"]:
                return self.block("review COMPLETE", output, "finalize", phase="finalize", verdict=verdict,
                                  mainline=mainline)
            self.state["phase"] = self.phase = "code_review"
            return self.code_review(verdict, mainline)
        self.state["stalls"] = 0 if mainline == "ADVANCED" else self.state["stalls"] + 1
        if self.state["stalls"] >= STALLS_TO_STOP:
            return self.end("stop", f"{STALLS_TO_STOP} rounds in a row without advancing the mainline", verdict,
                            mainline)
        return self.block("review: continue", f"The reviewer's findings:\n\n{output.strip()}",
                          "address the reviewer's findings" + (" after re-planning" if
                                                               self.state["stalls"] >= STALLS_TO_REPLAN else ""),
                          verdict=verdict, mainline=mainline, replan=self.state["stalls"] >= STALLS_TO_REPLAN)

    def code_review(self, verdict: str | None = None, mainline: str | None = None) -> dict | None:
        from kernelpilot.loop.reviewer import has_findings

        output, outcome = self.reviewed(True, render("code-review-prompt.md", base_commit=self.state["base_commit"]))
        if outcome is not None:
            return outcome
        if has_findings(output):
            return self.block("code review: findings", f"The code review found:\n\n{output.strip()}",
                              "fix the code-review findings", verdict=verdict, mainline=mainline)
        return self.block("code review: clean", "The code review is clean.", "finalize", phase="finalize",
                          verdict=verdict, mainline=mainline)

    def review_prompt(self, summary: str) -> str:
        config, state = self.state["config"], self.state
        full = bool(config["full_review_every"]) and (self.number + 1) % config["full_review_every"] == 0
        earlier = sorted(self.loop.dir.glob("round-*-review.md"), key=lambda p: int(p.name.split("-")[1]))
        keep = earlier if full else earlier[-config["history_reviews"]:] if config["history_reviews"] else []
        read = lambda path: path.read_text(encoding="utf-8") if path.is_file() else ""  # noqa: E731
        return render(
            "review-prompt.md", round=self.number, plan=read(self.loop.path(layout.PLAN_COPY)),
            goal_tracker=read(self.loop.path(layout.GOAL_TRACKER)), summary=summary,
            contract=read(self.loop.round_path(self.number, "contract")), base_commit=state["base_commit"],
            log=git.log_since(self.loop.project, state["base_commit"]),
            diff_stat=git.diff_stat_since(self.loop.project, state["base_commit"]) if full else "",
            gate=self.gate_lines, deferred=state["deferred"],
            reviews=[{"round": p.name.split("-")[1], "text": read(p)} for p in keep])

    # ------------------------------------------------------------ outcomes

    def record(self, outcome: str, next_step: str, verdict: str | None, mainline: str | None) -> None:
        entry = {"round": self.number, "phase": self.phase, "outcome": outcome, "gate": self.gate_lines,
                 "verdict": verdict, "mainline": mainline, "next": next_step, "at": now()}
        self.state["history"].append(entry)

    def block(self, outcome: str, feedback: str, next_step: str, phase: str | None = None,
              verdict: str | None = None, mainline: str | None = None, replan: bool = False,
              advance: bool = True) -> dict | None:
        if advance and self.number + 1 >= self.state["max_rounds"]:
            self.record(outcome, "none: the round limit is reached", verdict, mainline)
            return self.end("maxiter", f"round limit {self.state['max_rounds']} reached", record=False)
        self.record(outcome, next_step, verdict, mainline)
        if advance:
            self.state["round"] = self.number + 1
            self.state["phase"] = phase or self.phase
        prompt = round_prompt(self.loop, self.state, feedback, replan)
        atomic_write_text(self.loop.round_path(self.state["round"], "prompt"), prompt)
        self.loop.save(self.state)
        note = self.push() if advance else ""
        return {"decision": "block", "reason": prompt, "systemMessage": status_text(self.loop, self.state) + note}

    def end(self, status: str, reason: str, verdict: str | None = None, mainline: str | None = None,
            record: bool = True) -> dict:
        if record:
            self.record(f"loop ended: {status}", "none", verdict, mainline)
        finish(self.loop, self.state, status, reason)
        return {"systemMessage": status_text(self.loop, self.state)}

    def push(self) -> str:
        if not self.state["config"]["push_every_round"]:
            return ""
        failure = git.push(self.loop.project)
        return f"\ngit push failed: {failure}" if failure else "\npushed the round's commits"


def finish(loop: Loop, state: dict, status: str, reason: str) -> None:
    state.update(status=status, end_reason=reason, ended_at=now())
    loop.save(state)
    loop.clear_pointer()


# ---------------------------------------------------------------- cancel and status


def cancel_loop(project_dir: Path, force: bool) -> str:
    project = git.toplevel(project_dir).resolve()
    pointer = layout.read_active(str(project))
    if pointer is None:
        raise KernelPilotError(f"no active loop in {project}")
    if "damaged" in pointer:
        if not force:
            raise KernelPilotError(f"the active-loop pointer is damaged ({pointer['damaged']}): use --force")
        Path(layout.active_file(str(project))).unlink(missing_ok=True)
        return "cleared the damaged active-loop pointer"
    loop = Loop(project, pointer["loop_id"])
    pid_file = loop.path(layout.REVIEWER_PID)
    if pid_file.exists() and not force:
        raise KernelPilotError(f"a review is running (process group {pid_file.read_text().strip()}): "
                               "use --force to kill it and cancel")
    try:
        state = loop.load()
    except StateUnreadable as exc:
        if not force:
            raise KernelPilotError(f"loop {loop.loop_id}: {exc}; use --force to end it (the file is kept)") from None
        return loop.quarantine(str(exc))
    finish(loop, state, "cancel", "cancelled by the user")
    if pid_file.exists():
        from kernelpilot.loop.reviewer import kill_group

        kill_group(int(pid_file.read_text().strip() or 0), signal.SIGKILL)
    return f"loop {loop.loop_id} cancelled at round {state['round']} ({loop.rel(loop.dir)} kept)"


def latest_loop(project_dir: Path) -> Loop | None:
    project = git.toplevel(project_dir).resolve()
    pointer = layout.read_active(str(project))
    if pointer is not None and "damaged" not in pointer:
        return Loop(project, pointer["loop_id"])
    root = Path(layout.rlcr_dir(str(project)))
    ids = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return Loop(project, ids[-1]) if ids else None


def status_text(loop: Loop, state: dict) -> str:
    return render("status.txt", state=state, last=state["history"][-1] if state["history"] else None,
                  loop_dir=loop.rel(loop.dir)).rstrip()


def loop_status(project_dir: Path) -> tuple[dict | None, str]:
    """(state or None, the one-screen summary) of the active loop, or of the latest one."""
    loop = latest_loop(project_dir)
    if loop is None:
        return None, "no loop has run in this project"
    try:
        state = loop.load()
    except StateUnreadable as exc:
        kept = sorted(loop.dir.glob("state.corrupt-*.json"))
        where = f"; set aside as {loop.rel(kept[-1])}" if kept else ""
        return None, f"loop {loop.loop_id}: ended (unexpected): {exc}{where}"
    return state, status_text(loop, state)


def gate_inputs(cwd: Path, task: Path | None, summary: Path | None) -> tuple[Path, Path | None]:
    """The task folder and summary `loop gate` checks: as given, else those of the active loop, else the current
    folder and no summary."""
    active = None
    try:
        project = git.toplevel(cwd).resolve()
        pointer = layout.read_active(str(project))
        if pointer is not None and "damaged" not in pointer:
            loop = Loop(project, pointer["loop_id"])
            active = (loop, loop.load())
    except (KernelPilotError, StateUnreadable):
        active = None
    if task is None:
        task = Path(active[1]["task_dir"]) if active and active[1]["task_dir"] else cwd
    if summary is None and active:
        candidate = active[0].round_path(active[1]["round"], "summary")
        summary = candidate if candidate.is_file() else None
    if summary is not None and not summary.is_file():
        raise KernelPilotError(f"{summary}: no such summary file")
    return task, summary
