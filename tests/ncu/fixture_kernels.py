"""Small Triton kernels, each built to land in one bottleneck class, for capturing the real ncu fixtures.

Run on a GPU machine (scripts/gpu/capture_ncu_fixtures.sh drives it under Nsight Compute):

    python tests/ncu/fixture_kernels.py --list            # name, kernel regex, expected class
    python tests/ncu/fixture_kernels.py NAME... [--warmup] # some fixtures (a warm-up launch first, for --launch-skip 1)
    python tests/ncu/fixture_kernels.py all               # every fixture once, no warm-up (one multi-kernel report)

Every kernel name starts with `fx_` so that `-k regex:^fx_` never catches an input generator. Problem sizes are
small enough that a `--set full` capture of each takes seconds.
"""

from __future__ import annotations

import argparse
import ctypes
import sys

# name -> (kernel regex, the class the fixture is built to reach). Kept free of torch/triton so --list is cheap.
FIXTURES: dict[str, tuple[str, str]] = {
    "copy": ("^fx_copy_kernel$", "dram-bound"),
    "row_sum": ("^fx_row_sum_kernel$", "dram-bound"),
    "row_center_spill": ("^fx_row_center_spill_kernel$", "register-spill-bound"),
    "tiny_launch": ("^fx_tiny_kernel$", "launch-bound"),
    "gemm_bf16": ("^fx_gemm_kernel$", "compute-bound"),
    "fma_chains": ("^fx_fma_kernel$", "compute-bound"),
    "l2_reread": ("^fx_l2_reread_kernel$", "l2-bound"),
    "pointer_chase": ("^fx_chase_kernel$", "memory-latency-bound"),
    "fat_chase": ("^fx_fat_chase_kernel$", "occupancy-limited"),
    # 1.12 waves of FMA-bound blocks: ncu's rule predicts a 50% tail, but blocks left alone in the last wave run
    # faster, the FMA pipe stays saturated, and the class is compute-bound (measured on an H200).
    "tail_waves": ("^fx_tail_kernel$", "compute-bound"),
    # 1.12 waves of latency-bound blocks, which take as long alone as in company: the real tail.
    "tail_chase": ("^fx_tail_chase_kernel$", "tail-bound"),
    "barrier_loop": ("^fx_barrier_kernel$", "synchronization-bound"),
    "atomic_hotspot": ("^fx_atomic_hotspot_kernel$", "synchronization-bound"),
    "icache_unrolled": ("^fx_icache_kernel$", "front-end-bound"),
}


def _print_list() -> None:
    for name, (regex, klass) in FIXTURES.items():
        print(f"{name} {regex} {klass}")


if __name__ == "__main__" and "--list" in sys.argv[1:]:
    _print_list()
    raise SystemExit(0)

import torch  # noqa: E402  (after the cheap --list path on purpose)
import triton  # noqa: E402
import triton.language as tl  # noqa: E402


# ----------------------------------------------------------------------------------------------- kernels

@triton.jit
def fx_copy_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst + offs, tl.load(src + offs, mask=mask), mask=mask)


@triton.jit
def fx_row_sum_kernel(x, out, stride, N_COLS: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    values = tl.load(x + row * stride + tl.arange(0, N_COLS))
    tl.store(out + row, tl.sum(values, axis=0))


@triton.jit
def fx_row_center_spill_kernel(x, y, stride, ROWS: tl.constexpr, N_COLS: tl.constexpr):
    # The whole ROWS x N_COLS tile must stay live across the row mean: far more values per thread than the
    # 255-register limit, so the compiler spills to local memory.
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    offs = rows[:, None] * stride + tl.arange(0, N_COLS)[None, :]
    tile = tl.load(x + offs)
    mean = tl.sum(tile, axis=1) / N_COLS
    tl.store(y + offs, tile - mean[:, None])


@triton.jit
def fx_tiny_kernel(x, y, per_program, BLOCK: tl.constexpr):
    base = tl.program_id(0).to(tl.int64) * per_program
    for start in range(0, per_program, BLOCK):
        offs = base + start + tl.arange(0, BLOCK)
        tl.store(y + offs, tl.load(x + offs) * 2.0 + 1.0)


@triton.jit
def fx_gemm_kernel(a, b, c, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                   GROUP_M: tl.constexpr):
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(M, BM)
    tiles_n = tl.cdiv(N, BN)
    group = pid // (GROUP_M * tiles_n)
    first_m = group * GROUP_M
    group_rows = min(tiles_m - first_m, GROUP_M)
    pid_m = first_m + (pid % group_rows)
    pid_n = (pid % (GROUP_M * tiles_n)) // group_rows
    rm = pid_m * BM + tl.arange(0, BM)
    rn = pid_n * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    a_ptrs = a + rm[:, None] * K + rk[None, :]
    b_ptrs = b + rk[:, None] * N + rn[None, :]
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for _ in range(0, K, BK):
        acc = tl.dot(tl.load(a_ptrs), tl.load(b_ptrs), acc)
        a_ptrs += BK
        b_ptrs += BK * N
    tl.store(c + rm[:, None] * N + rn[None, :], acc.to(tl.bfloat16))


@triton.jit
def _fma_chains(seed, iters):
    # Four independent FMA chains per element: enough instruction-level parallelism to keep the FMA pipe busy.
    a = seed
    b = seed + 1.0
    c = seed + 2.0
    d = seed + 3.0
    for _ in range(iters):
        a = a * 0.9999 + 0.0001
        b = b * 0.9999 + 0.0001
        c = c * 0.9999 + 0.0001
        d = d * 0.9999 + 0.0001
    return a + b + c + d


@triton.jit
def fx_fma_kernel(out, iters, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out + offs, _fma_chains(offs.to(tl.float32) * 1e-6, iters))


@triton.jit
def fx_tail_kernel(out, iters, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out + offs, _fma_chains(offs.to(tl.float32) * 1e-6, iters))


@triton.jit
def fx_l2_reread_kernel(buf, out, n_chunks, repeats, BLOCK: tl.constexpr):
    # Every program re-reads chunks of a buffer that fits in L2; .cg skips L1 so the traffic lands on L2.
    pid = tl.program_id(0)
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for r in range(repeats):
        chunk = ((pid * repeats + r) * 7919) % n_chunks
        offs = chunk.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        acc += tl.load(buf + offs, cache_modifier=".cg")
    tl.store(out + pid, tl.sum(acc, axis=0))


@triton.jit
def _chase_lists(table, out, n_nodes, steps, NUM_WARPS: tl.constexpr):
    # Each warp follows a random linked list of 128-byte nodes: one coalesced load per step, each depending on
    # the last, so throughput is set by memory latency, not bandwidth.
    THREADS: tl.constexpr = 32 * NUM_WARPS
    t = tl.arange(0, THREADS)
    lane = t % 32
    node = ((tl.program_id(0) * NUM_WARPS + t // 32) * 40503) % n_nodes
    for _ in range(steps):
        node = tl.load(table + node.to(tl.int64) * 32 + lane)
    tl.store(out + tl.program_id(0) * THREADS + t, node)


@triton.jit
def fx_chase_kernel(table, out, n_nodes, steps, NUM_WARPS: tl.constexpr):
    _chase_lists(table, out, n_nodes, steps, NUM_WARPS)


@triton.jit
def fx_tail_chase_kernel(table, out, n_nodes, steps, NUM_WARPS: tl.constexpr):
    _chase_lists(table, out, n_nodes, steps, NUM_WARPS)


@triton.jit
def fx_fat_chase_kernel(table, keep_src, out, n_nodes, steps, NUM_WARPS: tl.constexpr, KEEP: tl.constexpr):
    # The same latency-bound chase, but each thread also keeps 2*KEEP floats live across the loop: the register
    # file then admits only a few blocks per SM, and too few warps are left to hide the latency.
    THREADS: tl.constexpr = 32 * NUM_WARPS
    t = tl.arange(0, THREADS)
    lane = t % 32
    node = ((tl.program_id(0) * NUM_WARPS + t // 32) * 40503) % n_nodes
    keep = tl.load(keep_src + tl.arange(0, THREADS * KEEP))
    acc = tl.zeros((THREADS * KEEP,), dtype=tl.float32)
    for _ in range(steps):
        node = tl.load(table + node.to(tl.int64) * 32 + lane)
        acc = acc * 0.5 + keep
    tl.store(out + tl.program_id(0) * THREADS + t, node.to(tl.float32) + tl.sum(acc, axis=0))


@triton.jit
def fx_barrier_kernel(out, iters, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = offs.to(tl.float32)
    for _ in range(iters):
        x = x * 0.999 + 1.0
        tl.debug_barrier()
    tl.store(out + offs, x)


@triton.jit
def fx_atomic_hotspot_kernel(counters, iters, BLOCK: tl.constexpr):
    ones = tl.full((BLOCK,), 1.0, dtype=tl.float32)
    slots = tl.arange(0, BLOCK) % 4
    for _ in range(iters):
        tl.atomic_add(counters + slots, ones, sem="relaxed")


@triton.jit
def fx_icache_kernel(out, BLOCK: tl.constexpr, UNROLL: tl.constexpr):
    # One straight-line body of UNROLL dependent FMAs, each with its own immediate: the SASS is larger than the
    # instruction caches, and blocks of many waves start at the top at different times, so warps of one SM sit
    # at different places in the code and wait on instruction fetch. No loop around the body: a loop would let
    # the compiler hoist every immediate into a register and spill.
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = offs.to(tl.float32) * 1e-6
    y = x * 1e-3
    for j in tl.static_range(UNROLL):
        x = x * (0.5 + j * 1e-5) + y
    tl.store(out + offs, x)


# ----------------------------------------------------------------------------------------------- launches

def _sm_count() -> int:
    return torch.cuda.get_device_properties(0).multi_processor_count


def _blocks_per_sm(compiled, num_warps: int) -> int:
    """Resident blocks per SM for a compiled Triton kernel, from the driver's occupancy calculator."""
    compiled._init_handles()
    shared = int(getattr(compiled.metadata, "shared", 0))
    blocks = ctypes.c_int(0)
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
        status = libcuda.cuOccupancyMaxActiveBlocksPerMultiprocessor(
            ctypes.byref(blocks), ctypes.c_void_p(compiled.function), ctypes.c_int(32 * num_warps),
            ctypes.c_size_t(shared))
    except (OSError, AttributeError) as exc:
        status = f"unavailable ({exc})"
    if status != 0 or blocks.value <= 0:
        # Registers are the limiter for these kernels; 256-register allocation granularity per warp.
        regs_per_warp = -(-max(compiled.n_regs, 1) * 32 // 256) * 256
        estimate = min(65536 // (regs_per_warp * num_warps), 64 // num_warps, 32)
        print(f"occupancy query failed ({status}); estimated {estimate} blocks/SM", flush=True)
        return max(estimate, 1)
    return blocks.value


def _report(name: str, compiled, grid, **extra) -> None:
    fields = {"regs": getattr(compiled, "n_regs", "?"), "spills": getattr(compiled, "n_spills", "?"),
              "shared": getattr(compiled.metadata, "shared", "?"), "grid": grid, **extra}
    print(f"fixture {name}: " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


def _options(num_warps, num_stages, constexprs):
    options = {"num_warps": num_warps, **constexprs}
    if num_stages is not None:
        options["num_stages"] = num_stages
    return options


def _launch(kernel, grid, args, launches, num_warps, num_stages=None, **constexprs):
    compiled = None
    for _ in range(launches):
        compiled = kernel[grid](*args, **_options(num_warps, num_stages, constexprs))
    torch.cuda.synchronize()
    return compiled


def _compile(kernel, args, grid, num_warps, num_stages=None, **constexprs):
    return kernel.warmup(*args, grid=grid, **_options(num_warps, num_stages, constexprs))


def run_copy(launches):
    n = 64 * 1024 * 1024
    src = torch.randn(n, device="cuda")
    dst = torch.empty_like(src)
    grid = (triton.cdiv(n, 4096),)
    return grid, _launch(fx_copy_kernel, grid, (src, dst, n), launches, 8, BLOCK=4096)


def run_row_sum(launches):
    x = torch.randn(16384, 4096, device="cuda")
    out = torch.empty(16384, device="cuda")
    grid = (x.shape[0],)
    return grid, _launch(fx_row_sum_kernel, grid, (x, out, x.stride(0)), launches, 4, N_COLS=4096)


def run_row_center_spill(launches):
    x = torch.randn(4096, 8192, device="cuda")
    y = torch.empty_like(x)
    grid = (x.shape[0] // 16,)
    return grid, _launch(fx_row_center_spill_kernel, grid, (x, y, x.stride(0)), launches, 4,
                         ROWS=16, N_COLS=8192)


def run_tiny_launch(launches):
    per_program = 64 * 1024
    x = torch.randn(4 * per_program, device="cuda")
    y = torch.empty_like(x)
    grid = (4,)
    return grid, _launch(fx_tiny_kernel, grid, (x, y, per_program), launches, 4, BLOCK=1024)


def run_gemm_bf16(launches):
    size = 4096
    a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    c = torch.empty(size, size, device="cuda", dtype=torch.bfloat16)
    grid = ((size // 128) * (size // 256),)
    return grid, _launch(fx_gemm_kernel, grid, (a, b, c, size, size, size), launches, 8,
                         num_stages=3, BM=128, BN=256, BK=64, GROUP_M=8)


def _waves_grid(kernel, args, num_warps, waves, **constexprs):
    """A grid of `waves` full waves (fractional allowed) for this kernel on this GPU."""
    compiled = _compile(kernel, args, (1,), num_warps, **constexprs)
    per_sm = _blocks_per_sm(compiled, num_warps)
    blocks = max(1, round(waves * per_sm * _sm_count()))
    print(f"blocks/SM={per_sm} SMs={_sm_count()} waves={waves} -> grid {blocks}", flush=True)
    return (blocks,)


def _run_fma_waves(kernel, launches, num_warps, waves, iters, block=1024):
    probe = torch.empty(block, device="cuda")
    grid = _waves_grid(kernel, (probe, iters), num_warps, waves, BLOCK=block)
    out = torch.empty(grid[0] * block, device="cuda")
    return grid, _launch(kernel, grid, (out, iters), launches, num_warps, BLOCK=block)


def run_fma_chains(launches):
    return _run_fma_waves(fx_fma_kernel, launches, num_warps=4, waves=8, iters=1024)


def run_tail_waves(launches):
    # 1.12 waves of long, equal blocks: the last wave leaves most SMs idle for a whole block time.
    return _run_fma_waves(fx_tail_kernel, launches, num_warps=8, waves=1.12, iters=8192)


def run_l2_reread(launches):
    block, repeats = 4096, 16
    buf = torch.randn(16 * 1024 * 1024 // 4, device="cuda")  # 16 MB: well inside the H100/H200 L2
    n_chunks = buf.numel() // block
    grid = (4096,)
    out = torch.empty(grid[0], device="cuda")
    return grid, _launch(fx_l2_reread_kernel, grid, (buf, out, n_chunks, repeats), launches, 8,
                         BLOCK=block)


def _chase_table(n_nodes: int):
    """A random permutation of 128-byte nodes; every int32 of node i holds the index of the next node."""
    perm = torch.randperm(n_nodes, device="cuda", dtype=torch.int32)
    return perm[:, None].expand(n_nodes, 32).contiguous()


def _run_chase(kernel, launches, waves, steps, n_nodes=2 * 1024 * 1024, warps=4):
    table = _chase_table(n_nodes)
    probe = torch.empty(32 * warps, device="cuda", dtype=torch.int32)
    grid = _waves_grid(kernel, (table, probe, n_nodes, steps), warps, waves, NUM_WARPS=warps)
    out = torch.empty(grid[0] * 32 * warps, device="cuda", dtype=torch.int32)
    return grid, _launch(kernel, grid, (table, out, n_nodes, steps), launches, warps, NUM_WARPS=warps)


def run_pointer_chase(launches):
    return _run_chase(fx_chase_kernel, launches, waves=2, steps=256)


def run_tail_chase(launches):
    return _run_chase(fx_tail_chase_kernel, launches, waves=1.12, steps=512)


def run_fat_chase(launches):
    n_nodes, steps, warps, keep = 2 * 1024 * 1024, 256, 4, 64
    table = _chase_table(n_nodes)
    keep_src = torch.randn(32 * warps * keep, device="cuda")
    probe = torch.empty(32 * warps, device="cuda")
    grid = _waves_grid(fx_fat_chase_kernel, (table, keep_src, probe, n_nodes, steps), warps, 2,
                       NUM_WARPS=warps, KEEP=keep)
    out = torch.empty(grid[0] * 32 * warps, device="cuda")
    return grid, _launch(fx_fat_chase_kernel, grid, (table, keep_src, out, n_nodes, steps), launches,
                         warps, NUM_WARPS=warps, KEEP=keep)


def run_barrier_loop(launches):
    block, iters = 512, 4096
    probe = torch.empty(block, device="cuda")
    grid = _waves_grid(fx_barrier_kernel, (probe, iters), 16, 4, BLOCK=block)
    out = torch.empty(grid[0] * block, device="cuda")
    return grid, _launch(fx_barrier_kernel, grid, (out, iters), launches, 16, BLOCK=block)


def run_atomic_hotspot(launches):
    counters = torch.zeros(4, device="cuda")
    grid = (_sm_count() * 4,)
    return grid, _launch(fx_atomic_hotspot_kernel, grid, (counters, 64), launches, 4, BLOCK=128)


def run_icache_unrolled(launches):
    block, unroll = 128, 8192
    probe = torch.empty(block, device="cuda")
    grid = _waves_grid(fx_icache_kernel, (probe,), 4, 16, BLOCK=block, UNROLL=unroll)
    out = torch.empty(grid[0] * block, device="cuda")
    return grid, _launch(fx_icache_kernel, grid, (out,), launches, 4, BLOCK=block, UNROLL=unroll)


RUNNERS = {name: globals()[f"run_{name}"] for name in FIXTURES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=[*FIXTURES, "all"], metavar="NAME",
                        help=f"one or more of {', '.join(FIXTURES)}, or all")
    parser.add_argument("--warmup", action="store_true", help="launch once before the profiled launch")
    args = parser.parse_args(argv)
    names = list(FIXTURES) if "all" in args.names else args.names
    failed = []
    for name in names:
        try:
            grid, compiled = RUNNERS[name](2 if args.warmup else 1)
            _report(name, compiled, grid)
        except Exception as exc:  # one broken fixture must not cost the others their capture
            failed.append(name)
            print(f"fixture {name}: FAILED {type(exc).__name__}: {exc}", flush=True)
    return 1 if failed and len(failed) == len(names) else 0


if __name__ == "__main__":
    sys.exit(main())
