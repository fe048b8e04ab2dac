"""Planted cheating candidates: the harness must reject every one, and none may reach the performance map."""

import pytest

from kernelpilot.harness import ledgers, perfmap, runner
from kernelpilot.harness.spec import load_task

HONEST_BODY = '''
import reference as _ref


def _norm(x, weight, bias, eps, is_rms_norm=False):
    return _ref.norm_infer(x, weight, bias, eps, is_rms_norm)


def _rms(x, w, eps=1e-6):
    return _ref.triton_one_pass_rms_norm(x, w, eps)
'''

CHEATERS = {
    "cheat_cached_output": '''
_memo = {}


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    result = _memo.setdefault("norm", _norm(x, weight, bias, eps, is_rms_norm))
    return out.copy_(result) if out is not None and out.shape == result.shape else result


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    return _memo.setdefault("rms", _rms(x, w, eps))
''',
    "cheat_partial_write": '''
import torch


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    out = torch.empty_like(x) if out is None else out
    half = x.shape[0] // 2 + 1
    out[:half] = _norm(x[:half], weight, bias, eps, is_rms_norm)
    return out


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    out = torch.empty_like(x)
    half = x.shape[0] // 2 + 1
    out[:half] = _rms(x[:half], w, eps)
    return out
''',
    "cheat_constant": '''
import torch


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    return torch.zeros_like(x) if out is None else out.zero_()


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    return torch.ones_like(x)
''',
    "cheat_low_precision": '''
import torch


def _low(t):
    return None if t is None else t.to(torch.bfloat16)


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    h = x.to(torch.bfloat16)
    if not is_rms_norm:
        h = h - h.mean(dim=-1, keepdim=True)
    y = h * torch.rsqrt(h.square().mean(dim=-1, keepdim=True) + eps)
    y = y if weight is None else y * _low(weight)
    y = (y if bias is None else y + _low(bias)).to(x.dtype)
    return y if out is None else out.copy_(y)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    h = x.to(torch.bfloat16)
    return (h * torch.rsqrt(h.square().mean(dim=-1, keepdim=True) + eps) * _low(w)).to(x.dtype)
''',
    "cheat_side_stream": '''
import threading
import time

import torch


def _behind_the_callers_back(compute, target):
    """On a GPU: a side stream the caller's stream never waits for. On a CPU: a thread that finishes later."""
    if target.is_cuda:
        stream = torch.cuda.Stream()
        with torch.cuda.stream(stream):
            torch.cuda._sleep(50_000_000)
            target.copy_(compute())
        return target
    threading.Thread(target=lambda: (time.sleep(0.05), target.copy_(compute())), daemon=True).start()
    return target


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    out = torch.empty_like(x) if out is None else out
    return _behind_the_callers_back(lambda: _norm(x, weight, bias, eps, is_rms_norm), out)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    return _behind_the_callers_back(lambda: _rms(x, w, eps), torch.empty_like(x))
''',
    "cheat_pointer_cache": '''
_by_pointer = {}


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    key = ("norm", x.data_ptr(), tuple(x.shape))
    if key not in _by_pointer:
        _by_pointer[key] = _norm(x, weight, bias, eps, is_rms_norm)
    result = _by_pointer[key]
    return result if out is None else out.copy_(result)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    key = ("rms", x.data_ptr(), tuple(x.shape))
    if key not in _by_pointer:
        _by_pointer[key] = _rms(x, w, eps)
    return _by_pointer[key]
''',
}


def plant(root, name, body):
    (root / "candidates" / f"{name}.py").write_text(
        f'"""Planted cheater: {name}."""\nimport sys\nsys.path.insert(0, {str(root)!r})\n' + HONEST_BODY + body)


@pytest.fixture
def cheating_task(norm_task_copy):
    for name, body in CHEATERS.items():
        plant(norm_task_copy, name, body)
    return load_task(norm_task_copy)


def test_every_cheater_is_rejected_and_recorded(cheating_task):
    outcome = runner.check(cheating_task, ["triton_rows", *CHEATERS], interpret=True)
    status = {a["candidate"]: a["status"] for a in outcome.attempts}
    assert status == {"triton_rows": "correct", **{name: "incorrect" for name in CHEATERS}}
    recorded = {a["candidate"] for a in ledgers.read_attempts(cheating_task.root)}
    assert recorded == set(status)
    for attempt in outcome.attempts:
        if attempt["candidate"] in CHEATERS:
            failures = [c["error"] for c in attempt["correctness"]["cases"].values() if not c["passed"]]
            assert failures and all(failures), attempt["candidate"]
    assert not ledgers.problems(cheating_task.root)


def test_cheaters_never_reach_the_performance_map(cheating_task):
    """Even with timings that look faster than everything, a candidate whose check failed is never dispatched."""
    outcome = runner.check(cheating_task, ["torch_eager", "triton_rows", *CHEATERS], interpret=True)
    for attempt in outcome.attempts:  # as if the same verdicts had come from a GPU check
        ledgers.append_attempt(cheating_task.root, {**attempt, "attempt_id": attempt["attempt_id"] + "-gpu",
                                                    "correctness": {**attempt["correctness"], "interpret": False}})
    rows = []
    for case in cheating_task.cases_for(interpret_only=True):
        for impl, device_us in [("torch_eager", 10.0), ("triton_rows", 5.0), *((c, 0.5) for c in CHEATERS)]:
            rows.append({"run_id": "run-1", "timestamp": ledgers.now_iso(), "task": cheating_task.name,
                         "op": case.op, "case": case.id, "impl": impl,
                         "impl_kind": "baseline" if impl == "torch_eager" else "candidate", "correct": True,
                         "device_us_p50": device_us, "host_us_p50": device_us, "gpu": "test-gpu", "sm_count": 1})
    ledgers.append_results(cheating_task.root, rows)
    perf_map = perfmap.build(cheating_task)
    measured = [c for op in perf_map["ops"].values() for c in op["cases"] if c["impls"]]
    assert {c["winner"] for c in measured} == {"triton_rows"}
    assert len(measured) == len(cheating_task.cases_for(interpret_only=True))
