"""Replay plans, made on the CPU from calls whose Triton launches compile for sm_90 instead of running (as
`task compile` does): every diffusion candidate's calls can be replayed, and a wrapper whose effect a replay would
miss is refused with its reason."""

import json
import subprocess
import sys

import pytest

from kernelpilot.harness import runner
from kernelpilot.harness.spec import load_task

DIFFUSION_TASKS = ["norm_infer", "fuse_scale_shift", "rotary_embedding", "group_norm_silu", "qknorm_rope",
                   "norm_tanh_mul_add", "norm_scale_shift"]


@pytest.mark.parametrize("family", DIFFUSION_TASKS)
def test_every_diffusion_candidate_call_is_replayable(repo_root, family):
    task = load_task(repo_root / "kernels" / f"h200_diffusion_{family}__multi_shape")
    outcome = runner.compile_candidates(task)
    verdicts = {(name, case): r.get("replay") for name, result in outcome.results.items()
                for case, r in result.cases.items()}
    assert verdicts
    refused = {k: v for k, v in verdicts.items() if not (v or "").startswith("replayable")}
    # The one refusal: GroupNorm copies a non-contiguous x first, which a replay would skip.
    expected = "not replayable: runs torch ops a replay would skip: clone"
    assert all(v == expected and "strided" in case for (_, case), v in refused.items()), refused


WRAPPERS = r'''
import json, torch, triton, triton.language as tl
from kernelpilot.harness.compiling import compile_instead_of_launching
from kernelpilot.launch import CachedLauncher
from kernelpilot.replay.recipe import record_call, replay_verdict, make_plan

compile_instead_of_launching("sm_90")

@triton.jit
def scaled(X, Y, n, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(Y + offs, tl.load(X + offs, mask=offs < n) * scale, mask=offs < n)

launch = CachedLauncher(scaled)

def plain(x):
    y = torch.empty_like(x)
    launch("k", (4,), (x, y, x.numel(), 2.0, 64))
    return y

def fills_first(x):
    y = torch.empty_like(x)
    y.fill_(0)
    launch("k", (4,), (x, y, x.numel(), 2.0, 64))
    return y

def narrow_view(x):
    y = torch.empty(2 * x.numel(), dtype=x.dtype)
    launch("k", (4,), (x, y, x.numel(), 2.0, 64))
    return y[: x.numel()]

def zeroed_scratch(x):
    partial = torch.zeros(x.numel(), dtype=x.dtype)
    y = torch.empty_like(x)
    launch("k", (4,), (x, partial, x.numel(), 2.0, 64))
    launch("k", (4,), (partial[1:], y, x.numel() - 1, 0.5, 64))
    return y, None

def in_place(x):
    launch("k", (4,), (x, x, x.numel(), 3.0, 64))

out = {}
x = torch.randn(256)
for fn in (plain, fills_first, narrow_view, zeroed_scratch, in_place):
    result, launches, watch = record_call(fn, (x,))
    out[fn.__name__] = replay_verdict([x], launches, result, watch)
result, launches, watch = record_call(zeroed_scratch, (x,))
plan = make_plan([x], launches, result, watch, function_of=lambda compiled: 0)
out["zeroed_scratch_plan"] = {"scratch_zeroed": [z for _, _, z in plan.scratch], "result": plan.result,
                              "params": [p for *_, p in plan.launches]}
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    script = tmp_path_factory.mktemp("replay") / "wrappers.py"  # Triton reads a kernel's source from its file
    script.write_text(WRAPPERS)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_plain_wrapper_is_replayable(verdicts):
    assert verdicts["plain"] == "replayable: 1 launch(es), 1 output(s), 0 scratch"
    assert verdicts["in_place"] == "replayable: 1 launch(es), 0 output(s), 0 scratch"


def test_a_wrapper_running_a_torch_op_is_refused(verdicts):
    assert verdicts["fills_first"] == "not replayable: runs torch ops a replay would skip: fill_"


def test_a_view_into_a_larger_allocation_is_refused(verdicts):
    assert verdicts["narrow_view"] == "not replayable: returns a view into a larger allocation"


def test_zeroed_scratch_is_replayed_zeroed_with_its_offsets(verdicts):
    plan = verdicts["zeroed_scratch_plan"]
    assert verdicts["zeroed_scratch"] == "replayable: 2 launch(es), 1 output(s), 1 scratch"
    assert plan["scratch_zeroed"] == [True]
    assert plan["result"] == [2, [[2, 0], [0, 0]]]  # a tuple: output 0, then None
    first, second = plan["params"]
    assert first[:2] == [[1, 0, 0], [3, 0, 0]]  # x is argument 0; partial is scratch 0
    assert second[:2] == [[3, 0, 4], [2, 0, 0]]  # partial[1:] is 4 bytes into the scratch; y is output 0
    assert second[3] == [0, 0, 0x3F000000]  # 0.5 as fp32 bits
