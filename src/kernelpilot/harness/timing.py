"""The three timing figures (device time, host cost, do_bench median) and the ceilings they are read against.

Runs inside the worker process on a CUDA device. Every figure is a median over repetitions with p10/p90.
"""

from __future__ import annotations

import functools
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch

COPY_BYTES = 1 << 30  # large enough that the copy ceiling is DRAM's, not L2's
MEMORY_BUDGET_BYTES = 8 << 30  # input rotation never takes more than this


@dataclass
class Figure:
    p10: float
    p50: float
    p90: float

    @classmethod
    def of(cls, samples: list[float]) -> "Figure":
        ordered = sorted(samples)
        return cls(_quantile(ordered, 0.1), statistics.median(ordered), _quantile(ordered, 0.9))


def _quantile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def graph_device_time(calls: list[Callable[[], Any]], reps: int,
                      warmup: int = 3) -> tuple[Figure, list[Any], torch.cuda.CUDAGraph]:
    """Capture all calls in one CUDA graph, replay it, and divide each replay's time by the number of calls.

    Returns the per-call figure (µs), what each captured call returned (memory that every replay rewrites, valid
    while the graph lives) and the graph itself, for a verifying replay.
    """
    torch.cuda.synchronize()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for call in calls[: min(len(calls), 3)]:  # allocator and autotuning warm-up outside the capture
            call()
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        returned = [call() for call in calls]
    for _ in range(warmup):
        graph.replay()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    samples = []
    for _ in range(reps):
        start.record()
        graph.replay()
        end.record()
        torch.cuda.synchronize()  # the whole device: work hidden on another stream is counted
        samples.append(start.elapsed_time(end) * 1e3 / len(calls))
    return Figure.of(samples), returned, graph


def host_cost(call: Callable[[], Any], calls_per_rep: int = 100, reps: int = 7,
              synchronize: Callable[[], Any] | None = None) -> Figure:
    """Wall time per call when calls are issued back to back from Python (what an eager pipeline pays). The device
    is synchronized between repetitions, outside the timed span (`synchronize` stands in on a machine without one)."""
    synchronize = synchronize or torch.cuda.synchronize
    for _ in range(5):
        call()
    synchronize()
    samples = []
    for _ in range(reps):
        begin = time.perf_counter()
        for _ in range(calls_per_rep):
            call()
        samples.append((time.perf_counter() - begin) * 1e6 / calls_per_rep)
        synchronize()
    return Figure.of(samples)


def host_calls_per_rep(call_us: float) -> int:
    """100 back-to-back calls per repetition, fewer for calls of milliseconds (attention), whose host cost is their
    device time: seven repetitions then take about a second instead of a minute."""
    return int(min(100, max(3, 150_000 / max(call_us, 1.0))))


def dobench_median(call: Callable[[], Any]) -> float:
    """triton.testing.do_bench's median (µs): events around each call after an L2 flush, as published numbers use."""
    from triton.testing import do_bench

    return do_bench(call, warmup=25, rep=100, return_mode="median") * 1e3


@functools.cache
def _sm_copy_launcher():
    import triton
    import triton.language as tl

    from kernelpilot.launch import CachedLauncher
    from kernelpilot.pdl import pdl_prologue

    @triton.jit
    def _sm_copy(source, target, n, BLOCK: tl.constexpr, PDL: tl.constexpr):
        pdl_prologue(PDL)
        offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        tl.store(target + offsets, tl.load(source + offsets, mask=offsets < n), mask=offsets < n)

    return CachedLauncher(_sm_copy, pdl=True)


def _copy_calls(source: torch.Tensor, target: torch.Tensor) -> list[Callable[[], Any]]:
    """A graph's memcpy node and SM copy kernels of two tile sizes, each copying source into target.

    Inside a CUDA graph `Tensor.copy_` becomes a memcpy node that may run on a copy engine, slower than the SMs
    (2.76 TB/s against 3.4+ TB/s for SM kernels on an H200, measured here); small copies favour small tiles. The
    SM copies launch with programmatic dependent launch, as the diffusion candidates do, so that a copy's launch
    overlaps the one before it there too. Triton specializes n on 16-divisibility: the launcher's key pins it."""
    launch, n = _sm_copy_launcher(), source.numel()
    return [lambda: target.copy_(source)] + [
        lambda block=block, warps=warps: launch((n % 16 == 0,), (-(-n // block),), (source, target, n, block),
                                                num_warps=warps)
        for block, warps in ((1024, 4), (4096, 8))]


def copy_ceiling_gbps() -> float:
    """The best of the copies of `_copy_calls` over 1 GiB (bytes read plus written), timed as the kernels are."""
    source = torch.empty(COPY_BYTES // 4, dtype=torch.float32, device="cuda").normal_()
    target = torch.empty_like(source)
    best_us = min(graph_device_time([copy] * 4, reps=30)[0].p50 for copy in _copy_calls(source, target))
    return 2 * COPY_BYTES / (best_us * 1e-6) / 1e9


def same_size_copy(case_bytes: int, l2_bytes: int) -> Figure:
    """Device time of the fastest plain copy that moves a case's bytes (half read, half written), its sources
    rotated as a case's inputs are: what memory, launch and ramp-up allow a kernel of that size, where the copy
    ceiling (a 1 GiB copy) leaves out the fixed costs that dominate a small case."""
    elements = max(1, case_bytes // 8)  # float32 elements per side: 4 bytes read and 4 written each
    sets = rotation_sets(8 * elements, 8 * elements, l2_bytes)
    sources = [torch.empty(elements, dtype=torch.float32, device="cuda").normal_() for _ in range(sets)]
    targets = [torch.empty_like(s) for s in sources]
    rounds = max(1, round(calls_per_replay(case_bytes / 3e6 + 1.0) / sets))  # guessed at 3 TB/s
    variants = zip(*(_copy_calls(s, t) for s, t in zip(sources, targets)))
    figures = []
    for copies in variants:
        calls = list(copies) * rounds
        figures.append(graph_device_time(calls, reps=20)[0])
    return min(figures, key=lambda f: f.p50)


MATMUL_SIDE = 8192  # large enough that the tensor cores, not the launch or the memory, set the time


def matmul_ceiling_tflops(dtype: str) -> float:
    """The rate of a large square matmul (cuBLAS), the compute ceiling FLOP-counted tasks are read against."""
    n = MATMUL_SIDE
    if dtype == "int8":
        a = torch.randint(-128, 128, (n, n), dtype=torch.int8, device="cuda")
        b = torch.randint(-128, 128, (n, n), dtype=torch.int8, device="cuda").t()  # column-major, as cuBLASLt wants

        def multiply():
            return torch._int_mm(a, b)
    else:
        a = torch.randn(n, n, dtype=torch.bfloat16, device="cuda")
        b = torch.randn(n, n, dtype=torch.bfloat16, device="cuda")

        def multiply():
            return a @ b
    figure, _, _ = graph_device_time([multiply] * 4, reps=10)
    return 2 * n ** 3 / (figure.p50 * 1e-6) / 1e12


def empty_kernel_us() -> float:
    """Device time of a graph-replayed kernel that does nothing: the launch floor."""
    import triton
    import triton.language as tl

    @triton.jit
    def _nothing(pointer):
        if tl.program_id(0) < 0:
            tl.store(pointer, 0.0)

    scratch = torch.empty(1, device="cuda")
    figure, _, _ = graph_device_time([lambda: _nothing[(1,)](scratch)] * 64, reps=50)
    return figure.p50


def calls_per_replay(call_us: float) -> int:
    """Calls captured per graph: about 2 ms of work, between 4 and 256 calls."""
    return int(min(256, max(4, 2000 / max(call_us, 0.5))))


def rotation_sets(case_bytes: int, alloc_bytes: int, l2_bytes: int, at_least: int = 1) -> int:
    """How many input sets to rotate over so that a case smaller than L2 is still read from memory."""
    wanted = max(at_least, math.ceil(3 * l2_bytes / max(case_bytes, 1)))
    affordable = max(1, MEMORY_BUDGET_BYTES // max(alloc_bytes, 1))
    return int(max(1, min(wanted, affordable, 64)))


def repetitions(per_replay_us: float) -> int:
    """Enough replays for a stable median, within about a third of a second per figure."""
    return int(min(200, max(20, 300_000 / max(per_replay_us, 1.0))))
