"""GroupNorm+SiLU kernels and their lean wrapper, shared by this task's candidates (not a candidate).

Three ways through a group: a fused kernel that holds one whole group in registers (one read of x); a split
reduction for larger groups (partial sums over chunks spread across every SM, then an apply pass that combines
the group's partials and normalizes its own chunk); and L2 waves, one persistent grid that takes the groups a
wave at a time, as many as fit in L2 together, so that the apply pass re-reads each group from L2, not HBM.

Every kernel here runs under programmatic dependent launch (`CachedLauncher(..., pdl=True)` launches it and
its first statement is `pdl_prologue(PDL)`).
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, ceil_div, interpreting, multiprocessors, next_pow2
from kernelpilot.pdl import pdl_prologue

H200_SMS = 132


@triton.jit(do_not_specialize=["spatial", "channels_per_group", "num_groups", "eps"])
def _group_fused_kernel(X, Y, W, B, group_size, spatial, channels_per_group, num_groups, eps,
                        BLOCK: tl.constexpr, PDL: tl.constexpr):
    pdl_prologue(PDL)
    row = tl.program_id(0)
    base = row.to(tl.int64) * group_size
    offsets = tl.arange(0, BLOCK)
    mask = offsets < group_size
    x = tl.load(X + base + offsets, mask=mask, other=0.0).to(tl.float32)
    centered = tl.where(mask, x - tl.sum(x, axis=0) / group_size, 0.0)
    rstd = tl.rsqrt(tl.sum(centered * centered, axis=0) / group_size + eps)
    channel = (row % num_groups) * channels_per_group + offsets // spatial
    scale = tl.load(W + channel, mask=mask, other=0.0).to(tl.float32) * rstd
    y = centered * scale + tl.load(B + channel, mask=mask, other=0.0).to(tl.float32)
    tl.store(Y + base + offsets, (y * tl.sigmoid(y)).to(Y.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["n_parts"])
def _group_partials_kernel(X, P, group_size, n_parts, CHUNK: tl.constexpr, BLOCK: tl.constexpr, PDL: tl.constexpr):
    pdl_prologue(PDL)
    # Sums of (x - k) and (x - k)^2 with k the group's first element: chunks combine by plain addition, without
    # the cancellation that sum(x^2) - sum(x)^2 / n suffers when the mean is large against the spread.
    row = tl.program_id(0)
    part = tl.program_id(1)
    base = row.to(tl.int64) * group_size
    pivot = tl.load(X + base).to(tl.float32)
    first = part * CHUNK
    sum1 = tl.zeros([BLOCK], tl.float32)
    sum2 = tl.zeros([BLOCK], tl.float32)
    for offset in range(0, CHUNK, BLOCK):
        index = first + offset + tl.arange(0, BLOCK)
        mask = index < group_size
        d = tl.where(mask, tl.load(X + base + index, mask=mask, other=0.0).to(tl.float32) - pivot, 0.0)
        sum1 += d
        sum2 += d * d
    slot = P + (row * n_parts + part) * 2
    tl.store(slot, tl.sum(sum1, axis=0))
    tl.store(slot + 1, tl.sum(sum2, axis=0))


@triton.jit(do_not_specialize=["spatial", "channels_per_group", "num_groups", "n_parts", "eps"])
def _group_apply_kernel(X, Y, W, B, P, group_size, spatial, channels_per_group, num_groups, n_parts, eps,
                        CHUNK: tl.constexpr, BLOCK: tl.constexpr, PARTS: tl.constexpr, PDL: tl.constexpr):
    pdl_prologue(PDL)
    row = tl.program_id(0)
    part = tl.program_id(1)
    base = row.to(tl.int64) * group_size
    # Every program of a group re-reduces the group's partials (a few KB, from L2) instead of a third launch.
    slots = P + (row * n_parts + tl.arange(0, PARTS)) * 2
    used = tl.arange(0, PARTS) < n_parts
    shifted_mean = tl.sum(tl.load(slots, mask=used, other=0.0), axis=0) / group_size
    variance = tl.maximum(tl.sum(tl.load(slots + 1, mask=used, other=0.0), axis=0) / group_size
                          - shifted_mean * shifted_mean, 0.0)
    mean = tl.load(X + base).to(tl.float32) + shifted_mean
    rstd = tl.rsqrt(variance + eps)
    first_channel = (row % num_groups) * channels_per_group
    first = part * CHUNK
    for offset in range(0, CHUNK, BLOCK):
        index = first + offset + tl.arange(0, BLOCK)
        mask = index < group_size
        x = tl.load(X + base + index, mask=mask, other=0.0).to(tl.float32)
        channel = first_channel + index // spatial
        scale = tl.load(W + channel, mask=mask, other=0.0).to(tl.float32) * rstd
        y = (x - mean) * scale + tl.load(B + channel, mask=mask, other=0.0).to(tl.float32)
        tl.store(Y + base + index, (y * tl.sigmoid(y)).to(Y.dtype.element_ty), mask=mask)


@triton.jit
def _wave_tiles(first, member, members, tiles, tiles_per_channel, spatial,
                TILE: tl.constexpr, UNROLL: tl.constexpr):
    """UNROLL of this program's tiles at once, as rows of a [UNROLL, TILE] block (so their loads are all in flight
    together): each row's channel in the group, the element offsets within the group, and the mask."""
    tile = first + tl.arange(0, UNROLL) * members
    channel = tile // tiles_per_channel
    within = (tile - channel * tiles_per_channel) * TILE
    offsets = (channel * spatial + within)[:, None] + tl.arange(0, TILE)[None, :]
    mask = (tile < tiles)[:, None] & ((within[:, None] + tl.arange(0, TILE)[None, :]) < spatial)
    return channel, offsets, mask


@triton.jit
def _wave_stats(X, Sync, row, group_size, spatial, tiles_per_channel, tiles, member, members,
                TILE: tl.constexpr, UNROLL: tl.constexpr):
    """Add this program's share of the group's sums of (x - k) and (x - k)^2 (k: the group's first element, as in
    the split path) into the group's slots, then count itself in. The loads ask L2 to keep the lines: the apply
    pass reads them again."""
    base = row.to(tl.int64) * group_size
    pivot = tl.load(X + base).to(tl.float32)
    sum1 = tl.zeros([TILE], tl.float32)
    sum2 = tl.zeros([TILE], tl.float32)
    for first in range(member, tiles, members * UNROLL):
        _, offsets, mask = _wave_tiles(first, member, members, tiles, tiles_per_channel, spatial, TILE, UNROLL)
        x = tl.load(X + base + offsets, mask=mask, other=0.0, eviction_policy="evict_last")
        d = tl.where(mask, x.to(tl.float32) - pivot, 0.0)
        sum1 += tl.sum(d, axis=0)
        sum2 += tl.sum(d * d, axis=0)
    slot = Sync + row * 3
    tl.atomic_add(slot, tl.sum(sum1, axis=0))
    tl.atomic_add(slot + 1, tl.sum(sum2, axis=0))
    tl.atomic_add(slot + 2, 1.0)  # acq_rel: the two sums are visible before the count says so


@triton.jit
def _wave_apply(X, Y, W, B, Sync, row, group_size, spatial, channels_per_group, num_groups, tiles_per_channel,
                tiles, member, members, eps, TILE: tl.constexpr, UNROLL: tl.constexpr):
    """Wait until every program of the group has counted itself in, then normalize this program's tiles, one
    channel per tile row so that its weight and bias are one load per row."""
    slot = Sync + row * 3
    # Plain volatile reads while waiting: hundreds of programs spinning with atomics would queue at L2's atomic
    # units behind the very additions they wait for. One acquiring atomic once the count is complete.
    arrived = tl.load(slot + 2, volatile=True)
    while arrived < members:
        arrived = tl.load(slot + 2, volatile=True)
    tl.atomic_add(slot + 2, 0.0, sem="acquire")
    shifted_mean = tl.load(slot, volatile=True) / group_size
    variance = tl.maximum(tl.load(slot + 1, volatile=True) / group_size - shifted_mean * shifted_mean, 0.0)
    base = row.to(tl.int64) * group_size
    mean = tl.load(X + base).to(tl.float32) + shifted_mean
    rstd = tl.rsqrt(variance + eps)
    first_channel = (row % num_groups) * channels_per_group
    for first in range(member, tiles, members * UNROLL):
        channel, offsets, mask = _wave_tiles(first, member, members, tiles, tiles_per_channel, spatial, TILE,
                                             UNROLL)
        used = first + tl.arange(0, UNROLL) * members < tiles
        scale = tl.load(W + first_channel + channel, mask=used, other=0.0).to(tl.float32) * rstd
        shift = tl.load(B + first_channel + channel, mask=used, other=0.0).to(tl.float32) - mean * scale
        x = tl.load(X + base + offsets, mask=mask, other=0.0, eviction_policy="evict_first")
        y = x.to(tl.float32) * scale[:, None] + shift[:, None]
        tl.store(Y + base + offsets, (y * tl.sigmoid(y)).to(Y.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["rows", "channels_per_group", "num_groups", "tiles_per_channel", "lanes",
                               "members", "eps"])
def _group_waves_kernel(X, Y, W, B, Sync, rows, group_size, spatial, channels_per_group, num_groups,
                        tiles_per_channel, lanes, members, eps,
                        TILE: tl.constexpr, UNROLL: tl.constexpr, PDL: tl.constexpr):
    # A persistent grid of lanes x members programs, all resident at once (cooperative launch): lane l takes groups
    # l, l + lanes, ...; the members of a lane split each group's tiles and meet at a spin barrier on its count.
    pdl_prologue(PDL)
    program = tl.program_id(0)
    lane = program // members
    member = program - lane * members
    tiles = channels_per_group * tiles_per_channel
    for first in range(0, rows, lanes):
        row = first + lane
        if row < rows:
            _wave_stats(X, Sync, row, group_size, spatial, tiles_per_channel, tiles, member, members, TILE, UNROLL)
            _wave_apply(X, Y, W, B, Sync, row, group_size, spatial, channels_per_group, num_groups,
                        tiles_per_channel, tiles, member, members, eps, TILE, UNROLL)


def split_plan(rows, group_size, programs_wanted=4 * H200_SMS, max_parts=1024):
    """(CHUNK, BLOCK, parts per group, warps): enough programs to fill every SM several times over, each moving
    whole 512..4096-element blocks with 16-byte accesses, and few enough partials per group to re-reduce cheaply."""
    per_part = ceil_div(group_size, max(1, ceil_div(programs_wanted, rows)))
    block = min(4096, max(512, next_pow2(per_part)))
    chunk = block * min(8, ceil_div(per_part, block))
    while ceil_div(group_size, chunk) > max_parts:
        chunk *= 2
    return chunk, block, ceil_div(group_size, chunk), max(1, min(8, block // 512))


class WavePlan:
    """How the L2-waves kernel covers a call: `programs_per_sm` resident programs per SM of `warps` warps, each
    moving `unroll` tiles of `tile` elements at a time, as many groups per wave as fit in `l2_budget` bytes."""

    def __init__(self, programs_per_sm=4, warps=4, tile=2048, unroll=1, l2_budget=24 << 20):
        self.programs_per_sm, self.warps, self.tile, self.unroll = programs_per_sm, warps, tile, unroll
        self.l2_budget = l2_budget

    def lanes_and_members(self, rows, group_bytes, programs):
        """Groups per wave (at least one, balanced so the last wave is not ragged) and programs per group."""
        fit = self.l2_budget // group_bytes
        lanes = max(1, min(rows, programs, fit))
        lanes = ceil_div(rows, ceil_div(rows, lanes))
        return lanes, programs // lanes


class GroupNormSilu:
    """triton_group_norm_silu over the kernels above; `fused_max` is the largest group taken in one program, and
    larger groups take the L2 waves when `waves` plans them, else the split reduction."""

    def __init__(self, fused_max, waves=None):
        self.fused_max = fused_max
        self.waves = waves
        self.fused = CachedLauncher(_group_fused_kernel, pdl=True)
        self.partials = CachedLauncher(_group_partials_kernel, pdl=True)
        self.apply = CachedLauncher(_group_apply_kernel, pdl=True)
        self.wave_kernel = CachedLauncher(_group_waves_kernel, pdl=True)

    def __call__(self, x, weight, bias, num_groups, eps):
        if not x.is_contiguous():
            x = x.contiguous()
        y = torch.empty_like(x)
        if x.numel() == 0:
            return y
        batch, channels = x.shape[0], x.shape[1]
        channels_per_group = channels // num_groups
        spatial = x.numel() // (batch * channels)
        group_size = channels_per_group * spatial
        rows = batch * num_groups
        # Triton specializes integers on ==1 and %16 and pointers on 16-byte alignment; the keys pin all three.
        common = (x.dtype, weight.dtype, bias.dtype, group_size % 16 == 0, group_size == 1,
                  (x.data_ptr() | y.data_ptr() | weight.data_ptr() | bias.data_ptr()) % 16 == 0)
        if group_size <= self.fused_max:
            block = next_pow2(group_size)
            warps = max(1, min(16, block // 512))
            self.fused(common + (block, warps), (rows,),
                       (x, y, weight, bias, group_size, spatial, channels_per_group, num_groups, eps, block),
                       num_warps=warps)
            return y
        if self.waves is not None:
            self._launch_waves(x, y, weight, bias, common, rows, group_size, spatial, channels_per_group, num_groups,
                               eps)
            return y
        chunk, block, n_parts, warps = split_plan(rows, group_size)
        partials = torch.empty(rows * n_parts * 2, dtype=torch.float32, device=x.device)
        key = common + (chunk, block, warps)
        self.partials(key, (rows, n_parts), (x, partials, group_size, n_parts, chunk, block), num_warps=warps)
        self.apply(key, (rows, n_parts),
                   (x, y, weight, bias, partials, group_size, spatial, channels_per_group, num_groups, n_parts, eps,
                    chunk, block, next_pow2(n_parts)),
                   num_warps=warps)
        return y

    def _launch_waves(self, x, y, weight, bias, common, rows, group_size, spatial, channels_per_group, num_groups,
                      eps):
        plan = self.waves
        # Every program must be resident for the spin barriers: the cooperative launch refuses a grid that cannot
        # be, instead of hanging. The interpreter runs programs one after another, so it gets a single program.
        on_gpu = x.is_cuda and not interpreting()
        programs = multiprocessors(x.device) * plan.programs_per_sm if on_gpu else 1
        lanes, members = plan.lanes_and_members(rows, group_size * x.element_size(), programs)
        sync = torch.zeros(rows * 3, dtype=torch.float32, device=x.device)
        # Triton specializes spatial (a channel's offset) on %16: that is what lets the loads be 16 bytes wide.
        self.wave_kernel(common + (spatial % 16 == 0, spatial == 1, plan.warps), (lanes * members,),
                         (x, y, weight, bias, sync, rows, group_size, spatial, channels_per_group, num_groups,
                          ceil_div(spatial, plan.tile), lanes, members, eps, plan.tile, plan.unroll),
                         num_warps=plan.warps, **({"launch_cooperative_grid": True} if on_gpu else {}))
