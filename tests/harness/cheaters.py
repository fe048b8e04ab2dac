"""Planted cheating candidates for the honesty suite (CPU and GPU variants share them)."""

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
