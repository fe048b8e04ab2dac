"""A `library` baseline: a library's kernel called through a wrapper the task folder defines."""

import shutil
from pathlib import Path

import pytest
import torch
import yaml

from kernelpilot.errors import KernelPilotError
from kernelpilot.harness import impls, runner
from kernelpilot.harness.spec import load_task

COPY_TASK = Path(__file__).resolve().parent / "fixtures" / "copy_task"
WRAPPER = '''
def library_copy(x):
    return x.detach().clone()
'''


@pytest.fixture
def library_task(tmp_path) -> Path:
    root = tmp_path / COPY_TASK.name
    shutil.copytree(COPY_TASK, root)
    (root / "baselines.py").write_text(WRAPPER)
    data = yaml.safe_load((root / "task.yaml").read_text())
    data["baselines"].append({"name": "library_clone", "kind": "library", "target": True,
                              "functions": {"copy": "baselines.py:library_copy"}})
    (root / "task.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def test_the_wrapper_is_the_baselines_function_and_its_file_is_recorded(library_task):
    impl = impls.resolve(load_task(library_task), "library_clone")
    x = torch.arange(4.0)
    assert torch.equal(impl.functions["copy"](x), x)
    assert impl.info["files"]["copy"]["file"] == "baselines.py:library_copy"
    assert len(impl.info["files"]["copy"]["sha256"]) == 64


def test_a_library_baseline_is_not_checked_under_the_interpreter(library_task):
    outcome = runner.check(load_task(library_task), ["library_clone"], interpret=True)
    assert outcome.attempts == [] and "needs a GPU" in outcome.skipped["library_clone"]


def test_a_missing_wrapper_file_is_one_clear_error(library_task):
    (library_task / "baselines.py").unlink()
    with pytest.raises(KernelPilotError, match="no baselines.py"):
        load_task(library_task)


def test_task_new_writes_a_stub_for_each_library_wrapper(tmp_path):
    from kernelpilot.harness import scaffold

    data = yaml.safe_load((COPY_TASK / "task.yaml").read_text())
    data.pop("name")
    data["baselines"].append({"name": "library_clone", "kind": "library",
                              "functions": {"copy": "baselines.py:library_copy"}})
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({**data, "cases": yaml.safe_load((COPY_TASK / "workloads.yaml").read_text())["cases"]}))
    root = scaffold.new_task("h200_library__unit", spec, tmp_path)
    assert "def library_copy(x):" in (root / "baselines.py").read_text()
    assert impls.resolve(load_task(root), "library_clone").functions["copy"].__name__ == "library_copy"
