"""The task and ledger verbs as a user meets them: real files, real git, one-line errors."""

import json
import subprocess

import pytest
import yaml

from clirun import kp, one_line_error
from kernelpilot.harness.spec import load_task

SPEC = {
    "title": "Scale rows by two",
    "arch": "h200",
    "ops": [{"name": "double", "signature": "double(x, out=None)", "returns": "2x, like x", "out_arg": "out"}],
    "correctness": {"mode": "tolerance"},
    "baselines": [{"name": "torch_eager", "kind": "torch_eager"}],
    "cost": {"double": {"reads": ["x"], "writes": ["out"]}},
    "cases": [{"id": "small", "op": "double", "interpret": True, "source": {"model": "unit test"},
               "args": {"x": {"shape": [4, 8], "dtype": "float32"}}}],
}


def test_task_new_scaffolds_a_committed_git_repo(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    result = kp("task", "new", "h200_double__unit", "--spec", str(spec), "--dir", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    root = tmp_path / "h200_double__unit"
    assert json.loads(result.stdout)["path"] == str(root)
    for name in ("task.yaml", "workloads.yaml", "reference.py", "prompt.md", "interface.md", "tests/test_task.py",
                 "candidates", "ledgers", "benchmarks", "profile"):
        assert (root / name).exists(), name
    assert "double(x)" in (root / "reference.py").read_text()
    log = subprocess.run(["git", "log", "--oneline"], cwd=root, capture_output=True, text=True).stdout
    assert "Scaffold task h200_double__unit" in log
    assert subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout == ""
    assert load_task(root).ops["double"].out_arg == "out"
    again = kp("task", "new", "h200_double__unit", "--spec", str(spec), "--dir", str(tmp_path))
    assert "already exists" in one_line_error(again)


def test_task_new_rejects_a_bad_spec_and_leaves_nothing(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({**SPEC, "arch": "h100"}))
    message = one_line_error(kp("task", "new", "h200_bad__unit", "--spec", str(spec), "--dir", str(tmp_path)))
    assert "arch" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


@pytest.mark.parametrize("content, cause", [
    ("name: [unclosed", "invalid YAML"),
    ("name: x\n", "required property"),
])
def test_validate_names_the_cause_in_one_line(tmp_path, content, cause):
    (tmp_path / "task.yaml").write_text(content)
    assert cause in one_line_error(kp("task", "validate", str(tmp_path)))


def test_not_a_task_folder(tmp_path):
    assert "not a task folder" in one_line_error(kp("task", "check", str(tmp_path)))


def test_bench_without_a_gpu_says_so(repo_root):
    task = repo_root / "kernels" / "h200_diffusion_norm_infer__multi_shape"
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert "need a CUDA GPU" in one_line_error(kp("task", "bench", str(task)))


def test_ledger_validate_reports_a_corrupt_line(norm_task_copy):
    (norm_task_copy / "ledgers" / "attempts.jsonl").write_text('{"attempt_id": "a"}\nnot json\n')
    result = kp("ledger", "validate", str(norm_task_copy), "--json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert any("not valid JSON" in p for p in problems)


def test_committed_ledgers_of_the_bundled_task_validate(repo_root):
    result = kp("ledger", "validate", str(repo_root / "kernels" / "h200_diffusion_norm_infer__multi_shape"))
    assert result.returncode == 0, result.stdout


def test_clones_keep_the_strides_of_gapped_views():
    import torch

    from kernelpilot.harness.inputs import clone_args

    view = torch.arange(48.0).view(6, 8)[:, ::2]
    copy = clone_args({"x": view})["x"]
    assert copy.stride() == view.stride() and torch.equal(copy, view)
    assert copy.data_ptr() != view.data_ptr()
