"""The int8 scaled GEMM every candidate of this task launches, each with its own tile configuration.

Shaped for a small M against a K-major (column-major) b: one BLOCK_M tile holds all of M's 64 rows, so the grid is
N / BLOCK_N column tiles times SPLIT_K slices of K, and each program streams its [K / SPLIT_K, BLOCK_N] panel of b
from DRAM exactly once. Both operands are K-major, the layout Hopper's 8-bit wgmma takes without a transpose.
Every program re-reads its K slice of a (from L2), so a's L2 traffic is (N / BLOCK_N) x 128 KiB: narrow column tiles
give enough programs to keep 132 SMs streaming b but multiply a's re-reads; splitting K gives programs without
more re-reads, at the price of exchanging int32 partial tiles.

With SPLIT_K > 1 the partial sums meet in one kernel, not in a second launch (a launch costs at least an empty
kernel's 0.76 µs on the H200, docs/harness-fidelity-h200.txt):
each program stores its int32 partial tile to a workspace and counts itself in on a per-tile arrival counter; the
last to arrive adds the others' partials to its own and runs the epilogue, then resets the counter to zero, so the
workspace needs no clearing between calls. Workspaces are kept per device and per stream, so calls on concurrent
streams never share one.
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, ceil_div


@triton.jit
def _scale_bias_store(acc, rows, cols, row_ok, col_ok, scale_a_ptr, scale_b_ptr, bias_ptr, out_ptr,
                      stride_om, stride_on, scale_a_step, scale_b_step, HAS_BIAS: tl.constexpr):
    """out = acc * scale_a[row] * scale_b[col] (+ bias[col]) in fp32, rounded once to out's dtype."""
    scale_a = tl.load(scale_a_ptr + rows * scale_a_step, mask=row_ok, other=0.0)
    scale_b = tl.load(scale_b_ptr + cols * scale_b_step, mask=col_ok, other=0.0)
    out = acc.to(tl.float32) * scale_a[:, None] * scale_b[None, :]
    if HAS_BIAS:
        out += tl.load(bias_ptr + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
    tl.store(out_ptr + rows[:, None] * stride_om + cols[None, :] * stride_on, out.to(out_ptr.dtype.element_ty),
             mask=row_ok[:, None] & col_ok[None, :])


@triton.jit
def _int8_scaled_mm_kernel(a_ptr, b_ptr, scale_a_ptr, scale_b_ptr, bias_ptr, out_ptr, partial_ptr, arrivals_ptr,
                           M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_om, stride_on,
                           scale_a_step, scale_b_step, HAS_BIAS: tl.constexpr, EVEN_K: tl.constexpr,
                           K_STEPS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                           BLOCK_K: tl.constexpr, SPLIT_K: tl.constexpr):
    tile_n, split, tile_m = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    rows = tile_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tile_n * BLOCK_N + tl.arange(0, BLOCK_N)
    row_ok, col_ok = rows < M, cols < N
    # Each split takes K_STEPS whole BLOCK_K steps (a constexpr count: the interpreter cannot loop to a runtime
    # bound); unless EVEN_K, steps that reach past K are masked, and the last splits may hold nothing at all.
    ks = split * (K_STEPS * BLOCK_K) + tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.int32)
    for step in range(K_STEPS):
        k0 = step * BLOCK_K
        a_ptrs = a_ptr + rows[:, None] * stride_am + (k0 + ks)[None, :] * stride_ak
        b_ptrs = b_ptr + (k0 + ks)[:, None] * stride_bk + cols[None, :] * stride_bn
        if EVEN_K:
            a = tl.load(a_ptrs, mask=row_ok[:, None], other=0)
            b = tl.load(b_ptrs, mask=col_ok[None, :], other=0)
        else:
            k_ok = (k0 + ks) < K
            a = tl.load(a_ptrs, mask=row_ok[:, None] & k_ok[None, :], other=0)
            b = tl.load(b_ptrs, mask=k_ok[:, None] & col_ok[None, :], other=0)
        acc = tl.dot(a, b, acc, out_dtype=tl.int32)

    if SPLIT_K == 1:
        _scale_bias_store(acc, rows, cols, row_ok, col_ok, scale_a_ptr, scale_b_ptr, bias_ptr, out_ptr,
                          stride_om, stride_on, scale_a_step, scale_b_step, HAS_BIAS)
    else:
        tile_ok = row_ok[:, None] & col_ok[None, :]
        partial_tile = partial_ptr + rows[:, None] * N + cols[None, :]  # workspace [SPLIT_K, M, N] int32
        tl.store(partial_tile + split * M * N, acc, mask=tile_ok)
        tl.debug_barrier()  # every thread's partial is stored before the arrival below publishes them
        tile = tile_m * tl.num_programs(0) + tile_n
        arrived = tl.atomic_add(arrivals_ptr + tile, 1, sem="acq_rel")
        if arrived == SPLIT_K - 1:
            for other in tl.static_range(SPLIT_K):
                # .cg: read from L2, where the other programs' stores landed, never a stale L1 line
                acc += tl.load(partial_tile + other * M * N, mask=tile_ok & (other != split), other=0,
                               cache_modifier=".cg")
            _scale_bias_store(acc, rows, cols, row_ok, col_ok, scale_a_ptr, scale_b_ptr, bias_ptr, out_ptr,
                              stride_om, stride_on, scale_a_step, scale_b_step, HAS_BIAS)
            tl.atomic_xchg(arrivals_ptr + tile, 0)  # ready for the next call


class Int8ScaledMM:
    """int8_scaled_mm with one tile configuration: BLOCK_M, BLOCK_N, BLOCK_K, SPLIT_K, num_warps, num_stages."""

    def __init__(self, block_m, block_n, block_k, split_k, num_warps, num_stages):
        self.blocks = (block_m, block_n, block_k, split_k)
        self.options = {"num_warps": num_warps, "num_stages": num_stages}
        self.launch = CachedLauncher(_int8_scaled_mm_kernel)
        self.workspaces = {}  # (device, stream, M, N) -> (int32 partials [SPLIT_K, M, N], int32 arrivals per tile)

    def __call__(self, a, b, scale_a, scale_b, out_dtype, bias=None):
        _check(a, b, scale_a, scale_b, bias)
        (m, k), n = a.shape, b.shape[1]
        block_m, block_n, block_k, split_k = self.blocks
        out = torch.empty((m, n), dtype=out_dtype, device=a.device)
        if out.numel() == 0:
            return out
        scale_a, scale_b = scale_a.reshape(-1), scale_b.reshape(-1)
        scale_a_step = scale_a.stride(0) if scale_a.numel() > 1 else 0  # 0: one scale for the whole tensor
        scale_b_step = scale_b.stride(0) if scale_b.numel() > 1 else 0
        grid = (ceil_div(n, block_n), split_k, ceil_div(m, block_m))
        k_steps = ceil_div(ceil_div(k, split_k), block_k)
        partials, arrivals = self._workspace(a.device, m, n, grid) if split_k > 1 else (out, out)
        integers = (m, n, k, *a.stride(), *b.stride(), *out.stride(), scale_a_step, scale_b_step)
        # Triton specializes integers on ==1 and %16 and pointers on 16-byte alignment: the exact integers pin both.
        key = (a.dtype, b.dtype, scale_a.dtype, scale_b.dtype, out_dtype, None if bias is None else bias.dtype,
               integers, aligned(a, b, scale_a, scale_b, bias, out, partials, arrivals))
        self.launch(key, grid,
                    (a, b, scale_a, scale_b, scale_b if bias is None else bias, out, partials, arrivals, *integers,
                     bias is not None, k == k_steps * block_k * split_k, k_steps, block_m, block_n, block_k, split_k),
                    **self.options)
        return out

    def _workspace(self, device, m, n, grid):
        key = (device, torch.cuda.current_stream(device).cuda_stream if device.type == "cuda" else None, m, n)
        found = self.workspaces.get(key)
        if found is None:
            found = (torch.empty((self.blocks[3], m, n), dtype=torch.int32, device=device),
                     torch.zeros(grid[0] * grid[2], dtype=torch.int32, device=device))
            self.workspaces[key] = found
        return found


def _check(a, b, scale_a, scale_b, bias):
    if a.dtype != torch.int8 or b.dtype != torch.int8 or a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"int8_scaled_mm: a and b must be int8 [M, K] and [K, N], got {a.dtype} {tuple(a.shape)} "
                         f"and {b.dtype} {tuple(b.shape)}")
    if scale_a.numel() not in (1, a.shape[0]) or scale_b.numel() not in (1, b.shape[1]):
        raise ValueError(f"int8_scaled_mm: scale_a must have 1 or M values and scale_b 1 or N, got "
                         f"{tuple(scale_a.shape)} and {tuple(scale_b.shape)}")
    if bias is not None and bias.shape != (b.shape[1],):
        raise ValueError(f"int8_scaled_mm: bias must be [N], got {tuple(bias.shape)}")
