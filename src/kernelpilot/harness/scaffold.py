"""`task new`: a task folder as a fresh git repo; `task twin`: a task's twin on another arch, beside it;
`task render`: prompt.md and interface.md from the task data."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import yaml

from kernelpilot import schemas
from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_text, read_yaml
from kernelpilot.harness.spec import ARCH_CAPABILITY, Op, Task, load_task

TEMPLATES = Path(__file__).parent / "templates"
FOLDERS = ("candidates", "tests", "ledgers", "benchmarks", "profile")
TWIN_FOLDERS = ("candidates", "ledgers", "benchmarks")  # a twin's own, besides tests/
GITIGNORE = "__pycache__/\n*.pyc\n.humanize/\nprofile/**/*.ncu-rep\n"


def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                              undefined=jinja2.StrictUndefined)


def render_docs(task: Task) -> list[Path]:
    env = _environment()
    return [atomic_write_text(task.path("prompt.md"), env.get_template("prompt.md.j2").render(task=task)),
            atomic_write_text(task.path("interface.md"), env.get_template("interface.md.j2").render(task=task))]


def new_task(name: str, spec_path: Path, parent: Path) -> Path:
    """Validate the spec first, write everything into a temporary folder, then move it into place."""
    spec = read_yaml(spec_path)
    if not isinstance(spec, dict) or "cases" not in spec:
        raise KernelPilotError(f"{spec_path}: a task spec is a mapping with the task.yaml fields and `cases:`")
    task_data = {k: v for k, v in spec.items() if k != "cases"}
    task_data["name"] = name
    task_data.setdefault("reference", {"module": "reference.py", "dtype": "float64"})
    schemas.validate(task_data, "task", str(spec_path))
    schemas.validate({"cases": spec["cases"]}, "workloads", str(spec_path))

    def fill(staging: Path) -> None:
        _write_files(staging, task_data, spec["cases"])
        render_docs(load_task(staging))
        _git_init(staging)

    return _create_atomically(parent / name, fill)


def new_twin(sibling_path: str | Path, arch: str) -> Path:
    """The sibling's twin on `arch`, beside it: its own task.yaml, candidates/, ledgers/, benchmarks/, test and docs;
    everything else it reads from the sibling."""
    sibling = load_task(sibling_path)
    if sibling.twin_of:
        raise KernelPilotError(f"{sibling.name} is itself a twin of {sibling.twin_of}: twin {sibling.twin_of} instead")
    if arch not in ARCH_CAPABILITY:
        raise KernelPilotError(f"unknown arch {arch!r} (known: {', '.join(sorted(ARCH_CAPABILITY))})")
    if arch == sibling.arch:
        raise KernelPilotError(f"{sibling.name} already targets {arch}: a twin runs a task on another arch")
    prefix = f"{sibling.arch}_"
    if not sibling.name.startswith(prefix) or sibling.root.name != sibling.name:
        raise KernelPilotError(f"{sibling.root}: cannot name the twin: the task's folder and name must both read "
                               f"{prefix}<rest>, e.g. h200_diffusion_norm_infer__multi_shape")
    name = f"{arch}_{sibling.name[len(prefix):]}"
    header = (f"# The {arch} twin of {sibling.name}:\n# K, R, W, baselines, cost and targets are read from "
              f"../{sibling.name}/;\n# candidates/ here add to its candidates or override one of the same file name.\n")

    def fill(staging: Path) -> None:
        for folder in TWIN_FOLDERS:
            (staging / folder).mkdir(parents=True)
            (staging / folder / ".gitkeep").touch()
        own = {"name": name, "arch": arch, "twin_of": sibling.name}
        atomic_write_text(staging / "task.yaml", header + yaml.safe_dump(own, sort_keys=False))
        atomic_write_text(staging / "tests" / "test_task.py", _environment().get_template("test_task.py.j2").render())
        render_docs(load_task(staging))

    return _create_atomically(sibling.root.parent / name, fill)


def _create_atomically(root: Path, fill: Callable[[Path], None]) -> Path:
    """Fill a staging folder beside `root`, then rename it into place: an error leaves nothing behind."""
    if root.exists():
        raise KernelPilotError(f"{root} already exists")
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = root.parent / f".{root.name}.partial"
    if staging.exists():
        raise KernelPilotError(f"{staging} is left from an interrupted run: remove it and try again")
    try:
        staging.mkdir()
        fill(staging)
        staging.rename(root)
    except BaseException:
        subprocess.run(["rm", "-rf", str(staging)], check=False)
        raise
    return root


def _write_files(root: Path, task_data: dict, cases: list) -> None:
    for folder in FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / ".gitkeep").touch()
    atomic_write_text(root / "task.yaml", yaml.safe_dump(task_data, sort_keys=False, width=110))
    atomic_write_text(root / "workloads.yaml", yaml.safe_dump({"cases": cases}, sort_keys=False, width=110))
    ops = [Op(name=o["name"], signature=o["signature"], returns=o["returns"], out_arg=o.get("out_arg"))
           for o in task_data["ops"]]
    env = _environment()
    reference_ops = [Op(name=o.name, signature=o.signature.replace(f", {o.out_arg}=None", "") if o.out_arg
                        else o.signature, returns=o.returns) for o in ops]
    atomic_write_text(root / task_data["reference"]["module"],
                      env.get_template("reference.py.j2").render(name=task_data["name"], ops=reference_ops))
    for file, text in _library_stubs(task_data["baselines"], ops).items():
        atomic_write_text(root / file, text)
    atomic_write_text(root / "tests" / "test_task.py", env.get_template("test_task.py.j2").render())
    atomic_write_text(root / ".gitignore", GITIGNORE)


def _library_stubs(baselines: list[dict], ops: list[Op]) -> dict[str, str]:
    """file -> one stub per wrapper the task's library baselines name, to be pointed at the library's kernel."""
    parameters = {op.name: op.signature.partition("(")[2] for op in ops}
    stubs: dict[str, list[str]] = {}
    for baseline in (b for b in baselines if b["kind"] == "library"):
        for op, reference in baseline.get("functions", {}).items():
            file, function = reference.split(":")
            stubs.setdefault(file, []).append(
                f"def {function}({parameters.get(op, '*args)')}:\n"
                f"    raise NotImplementedError(\"call the library kernel of baseline {baseline['name']} here\")\n")
    return {file: '"""Library baselines of this task: thin wrappers over a library\'s own kernels."""\n\n\n'
                  + "\n\n".join(functions) for file, functions in stubs.items()}


def _git_init(root: Path) -> None:
    def git(*args: str) -> None:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        if result.returncode != 0:
            raise KernelPilotError(f"git {args[0]} failed in {root}: {result.stderr.strip().splitlines()[-1:]}")

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("-c", "user.name=kernelpilot", "-c", "user.email=kernelpilot@localhost", "commit", "-q", "-m",
        f"Scaffold task {root.name.removeprefix('.').removesuffix('.partial')}")
