"""What only a CUDA GPU can show: the cached launcher matches the JIT, and side-stream work is caught there too."""

import sys

import pytest
import torch

from kernelpilot.harness import runner
from kernelpilot.harness.spec import load_task

from cheaters import CHEATERS, plant

pytestmark = pytest.mark.gpu


def test_cached_launcher_matches_the_jit_launch(repo_root):
    import importlib.util

    candidates = repo_root / "kernels" / "h200_diffusion_norm_infer__multi_shape" / "candidates"
    sys.path.insert(0, str(candidates))
    path = candidates / "triton_rows.py"
    spec = importlib.util.spec_from_file_location("triton_rows_gpu_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for rows, width, dtype in [(1320, 128, torch.bfloat16), (77, 3072, torch.bfloat16), (33, 5120, torch.float32)]:
        x = torch.randn(rows, width, device="cuda", dtype=dtype)
        w = torch.randn(width, device="cuda", dtype=dtype)
        b = torch.randn(width, device="cuda", dtype=dtype)
        first = module.norm_infer(x, w, b, 1e-6)  # compiles through the JIT
        second = module.norm_infer(x, w, b, 1e-6)  # launches the cached binary
        torch.cuda.synchronize()
        assert torch.equal(first, second)


def test_side_stream_cheater_is_caught_on_the_gpu(norm_task_copy):
    plant(norm_task_copy, "cheat_side_stream", CHEATERS["cheat_side_stream"])
    task = load_task(norm_task_copy)
    small = [c.id for c in task.cases_for(interpret_only=True)]
    outcome = runner.check(task, ["cheat_side_stream", "triton_rows"], interpret=False, case_ids=small)
    assert {a["candidate"]: a["status"] for a in outcome.attempts} == {"cheat_side_stream": "incorrect",
                                                                      "triton_rows": "correct"}


def test_cached_launcher_keys_on_every_constexpr_even_when_the_caller_forgets():
    import triton
    import triton.language as tl

    from kernelpilot.launch import CachedLauncher

    @triton.jit
    def _fill(out, VALUE: tl.constexpr):
        tl.store(out + tl.arange(0, 16), tl.full([16], VALUE, tl.float32))

    launch = CachedLauncher(_fill)
    out = torch.empty(16, device="cuda")
    for value in (1.0, 2.0, 1.0, 2.0):
        launch("same key", (1,), (out, value), num_warps=1)
        torch.cuda.synchronize()
        assert out.eq(value).all()


@pytest.mark.parametrize("one_by_one", [True, False], ids=["call", "launch_all"])
def test_pdl_launches_see_the_previous_kernels_writes_inside_a_graph(one_by_one):
    """Each launch adds one to what the launch before it wrote; with programmatic dependent launch the next kernel
    starts early, so a missing grid-dependency wait would read a stale value somewhere along the chain. The chain
    goes out launch by launch or as one `launch_all`."""
    import triton
    import triton.language as tl

    from kernelpilot.launch import CachedLauncher
    from kernelpilot.pdl import pdl_prologue

    @triton.jit
    def _increment(source, target, n, BLOCK: tl.constexpr, PDL: tl.constexpr):
        pdl_prologue(PDL)
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(target + offsets, tl.load(source + offsets, mask=offsets < n) + 1, mask=offsets < n)

    launch = CachedLauncher(_increment, pdl=True)
    n, links = 1 << 20, 32
    buffers = [torch.zeros(n, device="cuda") for _ in range(links + 1)]

    def chain():
        launches = [((n // 1024,), (source, target, n, 1024)) for source, target in zip(buffers, buffers[1:])]
        if one_by_one:
            for grid, args in launches:
                launch("f32", grid, args, num_warps=4)
        else:
            launch.launch_all("f32", launches, num_warps=4)

    chain()  # compiles, then caches
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        chain()
    for _ in range(3):
        for b in buffers[1:]:
            b.fill_(-1.0)
        graph.replay()
        torch.cuda.synchronize()
        assert buffers[-1].eq(links).all()


def test_a_same_size_copy_meets_the_ceiling_when_large_and_the_launch_floor_when_small():
    from kernelpilot.harness import timing

    l2_bytes = torch.cuda.get_device_properties(0).L2_cache_size
    large = timing.same_size_copy(1 << 29, l2_bytes).p50
    assert (1 << 29) / (large * 1e3) > 0.9 * timing.copy_ceiling_gbps()
    small = timing.same_size_copy(64 << 10, l2_bytes).p50
    # its SM copies launch under PDL, overlapping the previous launch: below a plain empty kernel, not far below
    assert 0.5 * timing.empty_kernel_us() <= small < large / 10
