import shutil
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared helper modules (cheaters, task_folders)

from task_folders import NORM_TASK  # noqa: E402 - importable once the folder is on sys.path


@pytest.fixture
def norm_task_copy(tmp_path) -> Path:
    """The real norm_infer task, with empty ledgers, in a scratch folder the test may add candidates to."""
    root = tmp_path / NORM_TASK.name
    shutil.copytree(NORM_TASK, root, ignore=shutil.ignore_patterns("ledgers", "benchmarks", "profile", "__pycache__"))
    for folder in ("ledgers", "benchmarks"):
        (root / folder).mkdir()
    return root


@pytest.fixture
def checked_task(norm_task_copy):
    """The norm_infer copy with torch_eager and triton_rows checked on its small cases (under the interpreter,
    recorded as a GPU check would be), so that timings of them can reach the performance map."""
    from kernelpilot.harness import ledgers, runner
    from kernelpilot.harness.spec import load_task

    task = load_task(norm_task_copy)
    for attempt in runner.check(task, ["torch_eager", "triton_rows"], interpret=True).attempts:
        ledgers.append_attempt(task.root, {**attempt, "attempt_id": attempt["attempt_id"] + "-gpu",
                                           "correctness": {**attempt["correctness"], "interpret": False}})
    return task


def set_correctness(root: Path, **fields) -> None:
    data = yaml.safe_load((root / "task.yaml").read_text())
    data["correctness"].update(fields)
    (root / "task.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
