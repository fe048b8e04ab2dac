"""Loop plans: the markdown sections the loop relies on, how to generate, refine and check them.

A plan is markdown with a `# title` and these `## ` sections, in this order:
Goal, Acceptance Criteria (AC-N, each with Positive and Negative tests), Path Boundaries, Feasibility Hints,
Dependencies and Milestones, Task Breakdown (a table: ID | Description | Target AC | Tag | Depends On, tag
`coding` or `analyze`), Pending Decisions. For kernel work the acceptance criteria also name every case of the
task folder's workloads (W), so no shape can be dropped without the validator saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import read_yaml
from kernelpilot.harness.spec import definition_folder

SECTIONS: dict[str, str] = {
    "goal": "Goal",
    "acceptance": "Acceptance Criteria",
    "boundaries": "Path Boundaries",
    "feasibility": "Feasibility Hints",
    "dependencies": "Dependencies and Milestones",
    "tasks": "Task Breakdown",
    "decisions": "Pending Decisions",
}
ALIASES = {"goal description": "goal", "feasibility hints and suggestions": "feasibility",
           "milestones": "dependencies", "tasks": "tasks"}
PLACEHOLDERS = {
    "goal": "TODO: the outcome in one paragraph: what changes, for whom, measured how.",
    "acceptance": "- AC-1: TODO: a checkable criterion.\n  - Positive: TODO: what passes.\n"
                  "  - Negative: TODO: what must fail.",
    "boundaries": "TODO: the paths the work may change, and those it must not touch.",
    "feasibility": "TODO: known approaches, risks, and what to measure first.",
    "dependencies": "TODO: what must exist first, and the milestones in order.",
    "tasks": "| ID | Description | Target AC | Tag | Depends On |\n|----|----|----|----|----|\n"
             "| T1 | TODO | AC-1 | coding | - |",
    "decisions": "None yet.",
}
TASK_COLUMNS = ["id", "description", "target ac", "tag", "depends on"]
TAGS = {"coding", "analyze"}
AC_LINE = re.compile(r"^\s*(?:[-*]\s*)?(?:#+\s*)?\**AC-(\d+)\**\s*[:.)\-\u2013\u2014]?\s*\**\s*(.*)$")
COMMENT_BLOCK = re.compile(r"<!--\s*CMT:(.*?)-->", re.S)
COMMENT_LINE = re.compile(r"^\s*CMT:\s*(.+)$", re.M)


@dataclass
class Criterion:
    number: int
    text: str
    positive: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)


@dataclass
class Plan:
    title: str
    sections: dict[str, str]
    extra: list[tuple[str, str]]  # sections the loop does not know, kept in place after the known ones

    def render(self) -> str:
        parts = [f"# {self.title}\n"]
        for key, heading in SECTIONS.items():
            parts.append(f"## {heading}\n\n{self.sections.get(key, PLACEHOLDERS[key]).strip()}\n")
        parts.extend(f"## {heading}\n\n{body.strip()}\n" for heading, body in self.extra)
        return "\n".join(parts)


def parse_plan(text: str) -> Plan:
    title, sections, extra = "", {}, []
    heading, body = None, []

    def close() -> None:
        if heading is None:
            return
        key = _section_key(heading)
        if key and key not in sections:
            sections[key] = "\n".join(body).strip()
        else:
            extra.append((heading, "\n".join(body).strip()))

    for line in text.splitlines():
        if line.startswith("# ") and not title and heading is None:
            title = line[2:].strip()
        elif line.startswith("## "):
            close()
            heading, body = line[3:].strip(), []
        elif heading is not None:
            body.append(line)
    close()
    return Plan(title or "Plan", sections, extra)


def _section_key(heading: str) -> str | None:
    normal = re.sub(r"\s+", " ", heading.strip().lower().rstrip(":"))
    for key, name in SECTIONS.items():
        if normal == name.lower():
            return key
    return ALIASES.get(normal)


def parse_criteria(body: str) -> list[Criterion]:
    criteria: list[Criterion] = []
    for line in body.splitlines():
        match = AC_LINE.match(line)
        if match:
            criteria.append(Criterion(int(match.group(1)), match.group(2).strip()))
            continue
        if not criteria:
            continue
        lowered = line.strip().lstrip("-* ").lower()
        if lowered.startswith("positive"):
            criteria[-1].positive.append(line.strip())
        elif lowered.startswith("negative"):
            criteria[-1].negative.append(line.strip())
        elif line.strip():
            criteria[-1].text += " " + line.strip()
    return criteria


def parse_task_table(body: str) -> tuple[list[str], list[list[str]]]:
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in body.splitlines() if line.strip().startswith("|")]
    if not rows:
        return [], []
    header = [cell.lower() for cell in rows[0]]
    data = [row for row in rows[1:] if not all(re.fullmatch(r":?-{2,}:?", cell) for cell in row)]
    return header, data


def plan_problems(text: str, task_dir: Path | None = None) -> list[str]:
    """Every missing or malformed section, one line each; empty when the plan is usable by the loop."""
    plan = parse_plan(text)
    problems = []
    for key, heading in SECTIONS.items():
        body = plan.sections.get(key)
        if body is None:
            problems.append(f"missing section '## {heading}'")
        elif not body:
            problems.append(f"section '{heading}' is empty")
        elif "TODO" in body:
            problems.append(f"section '{heading}' still has a TODO placeholder")
    criteria = parse_criteria(plan.sections.get("acceptance", ""))
    if "acceptance" in plan.sections and not criteria:
        problems.append("section 'Acceptance Criteria' has no AC-N item")
    problems += _criteria_problems(criteria)
    if "tasks" in plan.sections:
        problems += _task_problems(plan.sections["tasks"], {c.number for c in criteria})
    if task_dir is not None:
        source = require_workloads_file(task_dir)
        missing = missing_cases(plan.sections.get("acceptance", ""), read_workload_cases(source))
        problems += [f"acceptance criteria never name W case '{case}' of op '{op}' (from {source})"
                     for op, case in missing]
    return problems


def _criteria_problems(criteria: list[Criterion]) -> list[str]:
    problems = []
    numbers = [c.number for c in criteria]
    for number in sorted({n for n in numbers if numbers.count(n) > 1}):
        problems.append(f"AC-{number} is defined more than once")
    if criteria and sorted(set(numbers)) != list(range(1, len(set(numbers)) + 1)):
        problems.append(f"acceptance criteria are not numbered AC-1..AC-{len(set(numbers))} "
                        f"(found {', '.join(f'AC-{n}' for n in numbers)})")
    for criterion in criteria:
        if not criterion.text:
            problems.append(f"AC-{criterion.number} has no text")
        if not criterion.positive:
            problems.append(f"AC-{criterion.number} has no positive test ('- Positive: ...')")
        if not criterion.negative:
            problems.append(f"AC-{criterion.number} has no negative test ('- Negative: ...')")
    return problems


def _task_problems(body: str, criteria: set[int]) -> list[str]:
    header, rows = parse_task_table(body)
    if header != TASK_COLUMNS:
        return [f"task breakdown table header must be | ID | Description | Target AC | Tag | Depends On | "
                f"(found {' | '.join(header) or 'no table'})"]
    problems, ids, targeted = [], [row[0] for row in rows if row], set()
    if not rows:
        problems.append("task breakdown table has no rows")
    for row in rows:
        if len(row) != len(TASK_COLUMNS):
            problems.append(f"task row '{' | '.join(row)}' has {len(row)} cells, expected {len(TASK_COLUMNS)}")
            continue
        task_id, description, target, tag, depends = row
        if ids.count(task_id) > 1:
            problems.append(f"task {task_id} appears more than once")
        if not description:
            problems.append(f"task {task_id} has no description")
        if tag.strip("`").lower() not in TAGS:
            problems.append(f"task {task_id} has tag '{tag}', expected coding or analyze")
        for number in re.findall(r"AC-(\d+)", target) or [None]:
            if number is None:
                problems.append(f"task {task_id} targets no AC-N")
            elif int(number) not in criteria:
                problems.append(f"task {task_id} targets AC-{number}, which the plan does not define")
            else:
                targeted.add(int(number))
        for dependency in re.split(r"[,\s]+", depends):
            if dependency and dependency.lower() not in {"-", "none", "\u2014"} and dependency not in ids:
                problems.append(f"task {task_id} depends on unknown task '{dependency}'")
    problems += [f"AC-{number} has no task targeting it" for number in sorted(criteria - targeted)]
    return problems


def _task_spec(task_dir: Path) -> dict:
    """task.yaml as plain YAML ({} when absent): the loop also takes a folder that holds only workloads.yaml,
    so it does not load the harness's full, schema-checked task here."""
    spec = read_yaml(task_dir / "task.yaml") if (task_dir / "task.yaml").is_file() else None
    return spec if isinstance(spec, dict) else {}


def workloads_file(task_dir: Path) -> Path:
    """The task's workloads.yaml: its own, or a twin's sibling's (task.yaml `twin_of` names the folder beside it)."""
    return definition_folder(task_dir) / "workloads.yaml"


def require_workloads_file(task_dir: Path, hint: str = "") -> Path:
    """The task's workloads.yaml, which must exist: without it the folder is not a task folder."""
    path = workloads_file(task_dir)
    if not path.is_file():
        raise KernelPilotError(f"{task_dir}: not a task folder (no workloads.yaml){hint}")
    return path


def require_task_dir(task_dir: Path, hint: str = "") -> Path:
    """The folder itself when it is a task folder (it, or a twin's sibling, holds workloads.yaml)."""
    require_workloads_file(task_dir, hint)
    return task_dir


def workload_cases(task_dir: Path) -> list[tuple[str, str]]:
    """(op, case id) for every case of the task's W, in file order."""
    return read_workload_cases(workloads_file(task_dir))


def read_workload_cases(path: Path) -> list[tuple[str, str]]:
    """(op, case id) for every case of the workloads.yaml at path, in file order."""
    data = read_yaml(path)
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list):
        raise KernelPilotError(f"{path}: expected a 'cases:' list")
    result = []
    for index, case in enumerate(cases):
        if not isinstance(case, dict) or not isinstance(case.get("id"), str) or not isinstance(case.get("op"), str):
            raise KernelPilotError(f"{path}: case {index + 1} needs a string 'id' and 'op'")
        result.append((case["op"], case["id"]))
    return result


def task_arch(task_dir: Path) -> str | None:
    """The target architecture task.yaml names (`arch`), if any."""
    arch = _task_spec(task_dir).get("arch")
    return str(arch) if arch else None


def missing_cases(acceptance_body: str, cases: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (op, case id) pairs whose case id the acceptance criteria never name."""
    return [(op, case) for op, case in cases
            if not re.search(rf"(?<![\w-]){re.escape(case)}(?![\w-])", acceptance_body)]


def task_criteria(task_dir: Path, missing: list[tuple[str, str]], first_number: int) -> str:
    """Acceptance criteria (markdown) that cover the given W cases, one per op, numbered from first_number."""
    by_op: dict[str, list[str]] = {}
    for op, case in missing:
        by_op.setdefault(op, []).append(case)
    arch = task_arch(task_dir)
    where = f" on {arch.upper()}" if arch else ""
    lines = []
    for offset, (op, cases) in enumerate(by_op.items()):
        names = ", ".join(f"`{case}`" for case in cases)
        lines += [
            f"- AC-{first_number + offset}: every W case of `{op}` ({names}) passes the task's correctness contract "
            f"against the reference R and is timed{where} with a row in benchmarks/results.csv; after dispatch no "
            f"case is slower than the task's baselines and each meets its target where W sets one.",
            f"  - Positive: `kernelpilot task check` passes on {names} and the performance map lists each of them.",
            f"  - Negative: a candidate that fails any of {names} never wins a bucket in benchmarks/dispatch.py.",
        ]
    return "\n".join(lines)


def _with_task_criteria(plan: Plan, task_dir: Path | None) -> Plan:
    if task_dir is None:
        return plan
    body = plan.sections.get("acceptance", "")
    missing = missing_cases(body, workload_cases(task_dir))
    if missing:
        numbers = [c.number for c in parse_criteria(body)]
        added = task_criteria(task_dir, missing, max(numbers, default=0) + 1)
        plan.sections["acceptance"] = f"{body}\n{added}".strip() if body and "TODO" not in body else added
    plan.sections["goal"] = _with_task_line(plan.sections.get("goal", PLACEHOLDERS["goal"]), task_dir)
    return plan


def _with_task_line(goal: str, task_dir: Path) -> str:
    line = f"Task folder: {task_dir}"
    return goal if line in goal else f"{goal.strip()}\n\n{line}"


def generate(draft: str, task_dir: Path | None = None) -> str:
    """A plan from a draft: known sections are kept, the draft's free text becomes the goal, the rest are
    placeholders for the agent to fill, and task-derived criteria are added for every W case not yet named."""
    plan = parse_plan(draft)
    if not plan.sections and not plan.extra:
        free_text = "\n".join(line for line in draft.splitlines() if not line.startswith("# ")).strip()
        plan.sections["goal"] = free_text or PLACEHOLDERS["goal"]
    return _with_task_criteria(plan, task_dir).render()


def refine(text: str, task_dir: Path | None = None) -> tuple[str, list[str]]:
    """The plan with its reviewer comments (`<!-- CMT: ... -->` or `CMT: ...` lines) taken out and returned as
    a list, sections put in order, and task-derived criteria added where W cases are missing."""
    comments = [c.strip() for c in COMMENT_BLOCK.findall(text)]
    text = COMMENT_BLOCK.sub("", text)
    comments += [c.strip() for c in COMMENT_LINE.findall(text)]
    text = COMMENT_LINE.sub("", text)
    return _with_task_criteria(parse_plan(text), task_dir).render(), comments


def plan_task_dir(text: str) -> str | None:
    """The `Task folder: PATH` line that generate() writes into the goal, if any."""
    match = re.search(r"^Task folder:\s*(\S.*)$", parse_plan(text).sections.get("goal", ""), re.M)
    return match.group(1).strip() if match else None
