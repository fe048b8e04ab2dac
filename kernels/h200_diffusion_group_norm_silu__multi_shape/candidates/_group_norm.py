"""GroupNorm+SiLU kernels and their lean wrapper, shared by this task's candidates (not a candidate).

Three ways through a group: a fused kernel that holds one whole group in registers (one read of x); a split
reduction for larger groups (partial sums over chunks spread across every SM, then an apply pass that combines
the group's partials and normalizes its own chunk); and L2 waves, the groups taken a wave at a time (as many as fit in
L2 together), each launch summing one wave while it normalizes the wave before, which is still in L2.

Every kernel here runs under programmatic dependent launch (`CachedLauncher(..., pdl=True)` launches it and
its first statement is `pdl_prologue(PDL)`).
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, ceil_div, interpreting, multiprocessors, next_pow2
from kernelpilot.norm_stats import shifted_moments
from kernelpilot.pdl import pdl_prologue



@triton.jit
def _silu(y, FAST: tl.constexpr):
    """y * sigmoid(y); FAST as h + h * tanh(h) with h = y / 2 and the hardware's tanh.approx, one special-function
    op where sigmoid takes two (exp and a reciprocal): for 16-bit outputs, whose rounding dwarfs its 2^-11 error."""
    if FAST:
        half = 0.5 * y
        tanh = tl.inline_asm_elementwise("tanh.approx.f32 $0, $1;", "=r,r", [half], dtype=tl.float32, is_pure=True,
                                         pack=1)
        out = half + half * tanh
    else:
        out = y * tl.sigmoid(y)
    return out


@triton.jit(do_not_specialize=["spatial", "channels_per_group", "num_groups", "eps"])
def _group_fused_kernel(X, Y, W, B, group_size, spatial, channels_per_group, num_groups, eps,
                        BLOCK: tl.constexpr, FAST_SILU: tl.constexpr, AFFINE_FIRST: tl.constexpr,
                        BATCH_STRIDE: tl.constexpr, ONE_REDUCTION: tl.constexpr, PDL: tl.constexpr):
    """AFFINE_FIRST gathers each element's weight and bias with x, before the reductions: otherwise their loads
    come after the reductions' barriers, a second memory round trip after x's (the small groups are
    latency-bound). A nonzero BATCH_STRIDE reads x's batch items that many elements apart (each item contiguous),
    so a channel slice of a larger buffer needs no copy; a constant, so that contiguous calls' kernels take no
    extra argument (the stride is fixed by the buffer a model slices). ONE_REDUCTION takes the mean and variance
    from one reduction (`shifted_moments`, k the group's first element, as the split path shifts its sums)
    instead of the mean's reduction followed by the centered squares'."""
    pdl_prologue(PDL)
    row = tl.program_id(0)
    if BATCH_STRIDE:
        read_base = (row // num_groups).to(tl.int64) * BATCH_STRIDE + (row % num_groups) * group_size
    else:
        read_base = row.to(tl.int64) * group_size
    base = row.to(tl.int64) * group_size
    offsets = tl.arange(0, BLOCK)
    mask = offsets < group_size
    x = tl.load(X + read_base + offsets, mask=mask, other=0.0).to(tl.float32)
    if AFFINE_FIRST:
        channel = (row % num_groups) * channels_per_group + offsets // spatial
        weight = tl.load(W + channel, mask=mask, other=0.0).to(tl.float32)
        bias = tl.load(B + channel, mask=mask, other=0.0).to(tl.float32)
    if ONE_REDUCTION:
        pivot = tl.load(X + read_base).to(tl.float32)
        shifted = tl.where(mask, x - pivot, 0.0)
        shifted_mean, variance = shifted_moments(shifted, group_size, 0)
        centered = tl.where(mask, shifted - shifted_mean, 0.0)
        rstd = tl.rsqrt(variance + eps)
    else:
        centered = tl.where(mask, x - tl.sum(x, axis=0) / group_size, 0.0)
        rstd = tl.rsqrt(tl.sum(centered * centered, axis=0) / group_size + eps)
    if AFFINE_FIRST:
        y = centered * (weight * rstd) + bias
    else:
        channel = (row % num_groups) * channels_per_group + offsets // spatial
        scale = tl.load(W + channel, mask=mask, other=0.0).to(tl.float32) * rstd
        y = centered * scale + tl.load(B + channel, mask=mask, other=0.0).to(tl.float32)
    tl.store(Y + base + offsets, _silu(y, FAST_SILU).to(Y.dtype.element_ty), mask=mask)


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


@triton.jit(do_not_specialize=["channels_per_group", "num_groups", "apply_first_row", "apply_programs",
                               "stats_first_row", "blocks_per_channel", "blocks_per_group", "eps"])
def _group_wave_kernel(X, Y, W, B, Sums, group_size, spatial, channels_per_group, num_groups, apply_first_row,
                       apply_programs, stats_first_row, blocks_per_channel, blocks_per_group, eps,
                       BLOCK: tl.constexpr, SLOTS: tl.constexpr, SUM_EVICTION: tl.constexpr,
                       APPLY_EVICTION: tl.constexpr, STORE_EVICTION: tl.constexpr, INTERLEAVE: tl.constexpr,
                       FAST_SILU: tl.constexpr, PDL: tl.constexpr):
    # One launch of the wave pipeline: apply_programs programs normalize the previous wave's groups (summed by the
    # launch before, so still in L2), one block of one channel each (scalar weight and bias); the others sum the
    # next wave's groups, one block each, and add the block's sums into one of the group's SLOTS. INTERLEAVE
    # alternates the two roles over program ids, so that both run at once instead of one after the other.
    pdl_prologue(PDL)
    program = tl.program_id(0)
    offsets = tl.arange(0, BLOCK)
    stats_programs = tl.num_programs(0) - apply_programs
    if INTERLEAVE:
        paired = 2 * tl.minimum(apply_programs, stats_programs)
        if program < paired:
            applies = program % 2 == 0
            role_program = program // 2
        else:
            applies = apply_programs > stats_programs
            role_program = program - paired // 2
    else:
        applies = program < apply_programs
        role_program = tl.where(applies, program, program - apply_programs)
    if applies:
        channel_row = apply_first_row * channels_per_group + role_program // blocks_per_channel
        index = (role_program % blocks_per_channel) * BLOCK + offsets
        mask = index < spatial
        at = channel_row.to(tl.int64) * spatial + index
        x = tl.load(X + at, mask=mask, other=0.0, eviction_policy=APPLY_EVICTION).to(tl.float32)  # first: in flight
        row = channel_row // channels_per_group                                                  # while the sums load
        slots = Sums + (row * SLOTS + tl.arange(0, SLOTS)) * 2
        shifted_mean = tl.sum(tl.load(slots), axis=0) / group_size
        variance = tl.maximum(tl.sum(tl.load(slots + 1), axis=0) / group_size - shifted_mean * shifted_mean, 0.0)
        mean = tl.load(X + row.to(tl.int64) * group_size).to(tl.float32) + shifted_mean
        channel = channel_row % (num_groups * channels_per_group)
        scale = tl.load(W + channel).to(tl.float32) * tl.rsqrt(variance + eps)
        shift = tl.load(B + channel).to(tl.float32) - mean * scale
        y = x * scale + shift
        tl.store(Y + at, _silu(y, FAST_SILU).to(Y.dtype.element_ty), mask=mask, eviction_policy=STORE_EVICTION)
    else:
        row = stats_first_row + role_program // blocks_per_group
        block = role_program % blocks_per_group
        base = row.to(tl.int64) * group_size
        pivot = tl.load(X + base).to(tl.float32)  # sums of (x - k), k the group's first element, as the split path
        index = block * BLOCK + offsets
        mask = index < group_size
        x = tl.load(X + base + index, mask=mask, other=0.0, eviction_policy=SUM_EVICTION).to(tl.float32)
        d = tl.where(mask, x - pivot, 0.0)
        slot = Sums + (row * SLOTS + block % SLOTS) * 2
        # Relaxed: the launch boundary orders these additions before the next launch reads them, and the default
        # acq_rel would put a fence behind every program's loads.
        tl.atomic_add(slot, tl.sum(d, axis=0), sem="relaxed")
        tl.atomic_add(slot + 1, tl.sum(d * d, axis=0), sem="relaxed")


def split_plan(rows, group_size, sms, max_parts=1024):
    """(CHUNK, BLOCK, parts per group, warps): enough programs to fill every SM several times over, each moving
    whole 512..4096-element blocks with 16-byte accesses, and few enough partials per group to re-reduce cheaply."""
    per_part = ceil_div(group_size, max(1, ceil_div(4 * sms, rows)))
    block = min(4096, max(512, next_pow2(per_part)))
    chunk = block * min(8, ceil_div(per_part, block))
    while ceil_div(group_size, chunk) > max_parts:
        chunk *= 2
    return chunk, block, ceil_div(group_size, chunk), max(1, min(8, block // 512))


def items_contiguous(x):
    """Whether each batch item of x is contiguous, only the batch stride differing from a contiguous tensor's."""
    expected = 1
    for size, stride in zip(reversed(x.shape[1:]), reversed(x.stride()[1:])):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


class WavePlan:
    """How the wave pipeline covers a call: blocks of `block` elements moved by `warps` warps, as many groups per
    wave as fit in `l2_budget` bytes (at least one), each group's sums spread over `slots` atomic slots; the L2
    eviction hints ("", "evict_first" or "evict_last") of the summing loads, the normalizing loads and the stores;
    whether the two roles of a launch interleave, and whether 16-bit outputs take the tanh form of SiLU."""

    def __init__(self, block=8192, warps=8, l2_budget=32 << 20, slots=32, evictions=("", "evict_first", "evict_first"),
                 interleave=True, fast_silu=True):
        self.block, self.warps, self.l2_budget, self.slots = block, warps, l2_budget, slots
        self.evictions, self.interleave, self.fast_silu = evictions, interleave, fast_silu

    def groups_per_wave(self, rows, group_bytes):
        """At least one, balanced so that the last wave is not ragged."""
        fit = max(1, min(rows, self.l2_budget // group_bytes))
        return ceil_div(rows, ceil_div(rows, fit))


class GroupNormSilu:
    """triton_group_norm_silu over the kernels above; `fused_max` is the largest group taken in one program, and
    larger groups take the L2 waves when `waves` plans them, else the split reduction."""

    def __init__(self, fused_max, waves=None, affine_first=False, batch_strided=False, one_reduction=False):
        self.fused_max = fused_max
        self.waves = waves
        self.affine_first, self.batch_strided, self.one_reduction = affine_first, batch_strided, one_reduction
        self.fused = CachedLauncher(_group_fused_kernel, pdl=True)
        self.partials = CachedLauncher(_group_partials_kernel, pdl=True)
        self.apply = CachedLauncher(_group_apply_kernel, pdl=True)
        self.wave_kernel = CachedLauncher(_group_wave_kernel, pdl=True)

    def __call__(self, x, weight, bias, num_groups, eps):
        y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        if x.numel() == 0:
            return y
        batch, channels = x.shape[0], x.shape[1]
        channels_per_group = channels // num_groups
        spatial = x.numel() // (batch * channels)
        group_size = channels_per_group * spatial
        rows = batch * num_groups
        fused = group_size <= self.fused_max
        # A copy would be a second kernel, and a wrapper that copies is never replayed (kernelpilot.replay).
        batch_strided = fused and self.batch_strided and not x.is_contiguous() and items_contiguous(x)
        if not x.is_contiguous() and not batch_strided:
            x = x.contiguous()
        # Triton specializes integers on ==1 and %16 and pointers on 16-byte alignment; the keys pin all three.
        common = (x.dtype, weight.dtype, bias.dtype, group_size % 16 == 0, group_size == 1,
                  aligned(x, y, weight, bias))
        if fused:
            block = next_pow2(group_size)
            warps = max(1, min(16, block // 512))
            batch_stride = x.stride(0) if batch_strided else 0
            # One reduction for 16-bit groups only, whose rounding hides its error (kernelpilot.norm_stats).
            one_reduction = self.one_reduction and x.element_size() == 2
            self.fused(common + (block, warps, batch_stride, one_reduction), (rows,),
                       (x, y, weight, bias, group_size, spatial, channels_per_group, num_groups, eps, block,
                        x.element_size() == 2 and not interpreting(), self.affine_first, batch_stride,
                        one_reduction),
                       num_warps=warps)
            return y
        if self.waves is not None:
            self._launch_waves(x, y, weight, bias, common, rows, group_size, spatial, channels_per_group, num_groups,
                               eps)
            return y
        chunk, block, n_parts, warps = split_plan(rows, group_size, multiprocessors(x))
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
        """Launch k sums wave k while normalizing wave k - 1: waves + 1 launches in all, each re-reading from L2 the
        groups the one before it summed."""
        plan = self.waves
        lanes = plan.groups_per_wave(rows, group_size * x.element_size())
        sums = torch.zeros(rows * plan.slots * 2, dtype=torch.float32, device=x.device)
        blocks_per_channel = ceil_div(spatial, plan.block)
        blocks_per_group = ceil_div(group_size, plan.block)
        # Triton specializes spatial (each channel's offset) on %16: that is what lets the loads be 16 bytes wide.
        key = common + (spatial % 16 == 0, spatial == 1, plan.warps)
        fast_silu = plan.fast_silu and x.element_size() == 2 and not interpreting()  # no inline asm there
        launches = []
        for first in range(0, rows + lanes, lanes):
            applied = max(0, min(lanes, rows - (first - lanes))) if first else 0
            summed = max(0, min(lanes, rows - first))
            apply_programs = applied * channels_per_group * blocks_per_channel
            launches.append(((apply_programs + summed * blocks_per_group,),
                             (x, y, weight, bias, sums, group_size, spatial, channels_per_group, num_groups,
                              first - lanes, apply_programs, first, blocks_per_channel, blocks_per_group, eps,
                              plan.block, plan.slots, *plan.evictions, plan.interleave, fast_silu)))
        # The largest VAE tiles take 33 launches: their host cost is the launches', so they go out in one loop.
        self.wave_kernel.launch_all(key, launches, num_warps=plan.warps)
