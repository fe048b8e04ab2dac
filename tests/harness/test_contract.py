"""What the worker promises every implementation: autograd off, as in serving, and each op judged by its own mode."""

import yaml

from kernelpilot.harness import runner
from kernelpilot.harness.spec import load_task

from cheaters import plant

# The eager chain itself, but refusing to run with autograd on (SGLang's kernels fall back to eager there).
NEEDS_AUTOGRAD_OFF = '''
import torch


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    assert not torch.is_grad_enabled(), "autograd is on"
    y = _norm(x, weight, bias, eps, is_rms_norm)
    return y if out is None else out.copy_(y)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    assert not torch.is_grad_enabled(), "autograd is on"
    return _rms(x, w, eps)
'''

# Well within tolerance, one unit in the last place away from the eager chain on a single element.
ONE_ULP_OFF = '''
import torch


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    y = _rms(x, w, eps)
    flat = y.view(-1)
    flat[0] = torch.nextafter(flat[0], torch.tensor(float("inf"), dtype=y.dtype))
    return y
'''


def _statuses(task, names):
    cases = [c.id for c in task.cases_for("triton_one_pass_rms_norm", interpret_only=True)]
    outcome = runner.check(task, names, interpret=True, case_ids=cases)
    return {a["candidate"]: a["status"] for a in outcome.attempts}


def test_implementations_run_with_autograd_off(norm_task_copy):
    plant(norm_task_copy, "needs_autograd_off", NEEDS_AUTOGRAD_OFF)
    assert _statuses(load_task(norm_task_copy), ["needs_autograd_off"]) == {"needs_autograd_off": "correct"}


def test_an_op_can_be_judged_bitexact_inside_a_tolerance_task(norm_task_copy):
    plant(norm_task_copy, "one_ulp_off", ONE_ULP_OFF)
    assert _statuses(load_task(norm_task_copy), ["one_ulp_off"]) == {"one_ulp_off": "correct"}

    data = yaml.safe_load((norm_task_copy / "task.yaml").read_text())
    next(op for op in data["ops"] if op["name"] == "triton_one_pass_rms_norm")["correctness_mode"] = "bitexact"
    (norm_task_copy / "task.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    task = load_task(norm_task_copy)
    assert task.correctness_mode("triton_one_pass_rms_norm") == "bitexact"
    assert task.correctness_mode("norm_infer") == "tolerance"
    assert _statuses(task, ["one_ulp_off", "torch_eager"]) == {"one_ulp_off": "incorrect", "torch_eager": "correct"}
