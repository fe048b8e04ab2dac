"""Tile sweep over the small and mid-size cases that miss their device target in five tasks: graph-replayed device
time of each candidate's kernel under every (rows per program, columns, warps) setting worth trying, each output
checked against the task's reference. Feeds the tile policies of rotary, scale-shift, select01, qknorm_rope,
norm_tanh_mul_add and norm_infer; the printed tables are kept in docs/small-tiles-sweep-h200.txt."""

import sys
from pathlib import Path
from typing import Any, Callable

from sweep import candidate_module, print_table, time_settings

from kernelpilot.harness import environment
from kernelpilot.harness.spec import load_task

KERNELS = Path(__file__).resolve().parents[2] / "kernels"


def grid(*axes: tuple) -> list[tuple]:
    """Every combination of the axes' values, first axis slowest."""
    combos = [()]
    for axis in axes:
        combos = [c + (v,) for c in combos for v in axis]
    return combos


def rotary_pairs(module: Any, rows: int, warps: int) -> Callable:
    pairs = module.RotaryPairs(lambda n_rows, width: (rows, warps))
    return lambda x, cos, sin, interleaved=False: pairs(x, cos, sin, interleaved)


def ltx2_split(module: Any, heads: int, warps: int) -> Callable:
    return module.Ltx2Split(lambda token_rows, all_heads, half, sms: (min(heads, all_heads), warps))


def scale_shift(module: Any, rows: int, block_c: int, warps: int) -> Callable:
    modulate = module.ScaleShift(lambda n_rows, channels, sms: (rows, min(block_c, module.next_pow2(channels)), warps))
    return lambda x, scale, shift, scale_constant=1.0, block_l=128, block_c=128: modulate(x, scale, shift,
                                                                                          scale_constant)


def select01(module: Any, warps: int) -> Callable:
    select = module.Select01(lambda channels: warps)

    def fn(x, weight, bias, scale0, shift0, gate0, scale1, shift1, gate1, index, eps):
        y, gate, _ = select(x, None, None, weight, bias, index, eps, scale0, shift0, gate0, scale1, shift1, gate1)
        return y, gate
    return fn


def residual_select01(module: Any, warps: int) -> Callable:
    select = module.Select01(lambda channels: warps)

    def fn(x, residual, residual_gate, weight, bias, scale0, shift0, gate0, scale1, shift1, gate1, index, eps):
        y, gate, residual_out = select(x, residual, residual_gate, weight, bias, index, eps,
                                       scale0, shift0, gate0, scale1, shift1, gate1)
        return y, residual_out, gate
    return fn


def qknorm_rope(module: Any, rows: int, warps: int) -> Callable:
    fused = module.QKNormRope(lambda n_rows, head_dim: (rows, warps))

    def fn(q, k, q_weight, k_weight, cos_sin_cache, positions, *, is_neox, eps=1e-6, head_dim=0, rope_dim=0):
        fused(q, k, q_weight, k_weight, cos_sin_cache, positions, is_neox, eps, head_dim, rope_dim)
        return q, k
    return fn


def tanh_norm(op_index: int) -> Callable:
    def variant(module: Any, rows: int, warps: int) -> Callable:
        return module.entry_points(lambda n_rows, width, element_size: (rows, warps))[op_index]
    return variant


def row_norm(module: Any, rows: int, warps: int) -> Callable:
    norm = module.RowNorm(lambda n_rows, width, element_size, sms: (rows, warps), pdl=True)
    return lambda x, weight, bias, eps, is_rms_norm=False, out=None: norm(x, weight, bias, eps, bool(is_rms_norm),
                                                                          out)


def one_pass_rms(module: Any, rows: int, warps: int) -> Callable:
    norm = module.RowNorm(lambda n_rows, width, element_size, sms: (rows, warps), pdl=True)
    return lambda x, w, eps=1e-6: norm(x, w, None, eps, True, None)


ROTARY, SCALE_SHIFT = "h200_diffusion_rotary_embedding__multi_shape", "h200_diffusion_fuse_scale_shift__multi_shape"
TANH, NORM = "h200_diffusion_norm_tanh_mul_add__multi_shape", "h200_diffusion_norm_infer__multi_shape"
SMALL_ROWS, FEW_WARPS = (1, 2, 4, 8, 16, 32), (1, 2, 4)
SWEEPS = [  # task folder, candidate whose helpers build the variants, variant builder, its settings, cases
    (ROTARY, "triton_tiles", rotary_pairs, grid(SMALL_ROWS, FEW_WARPS),
     ["edge_rope_3d_40x6x64_f16", "edge_rope_4d_2x33x5x96_f32"]),
    (ROTARY, "triton_tiles", ltx2_split, grid((2, 4, 8, 16, 32), (1, 2, 4, 8)),
     ["ltx2_split_rope_126x2048_bf16", "ltx2_split_rope_1536x2048_bf16", "ltx2_split_rope_1536x4096_bf16",
      "ltx2_split_rope_6144x4096_bf16"]),
    (SCALE_SHIFT, "triton_rows", scale_shift, grid((1, 2, 4), (256, 512, 1024), FEW_WARPS),
     ["qwen_image_19x3072_gate_1x1xC", "hunyuan_55x3072_gate_1xC", "qwen_edit_195x3072_gate_1x1xC"]),
    (SCALE_SHIFT, "triton_rows", scale_shift, grid(SMALL_ROWS, (128,), FEW_WARPS),
     ["edge_bc_scale_shift_2x17x80_bf16", "edge_per_frame_scale_2x12x64_f32", "edge_strided_fp32_gate_1x24x96_bf16"]),
    (SCALE_SHIFT, "triton_rows", select01, grid((1, 2, 4, 8, 16)),
     ["qwen_edit_ln_select01_8424x3072", "edge_ln_select01_affine_2x9x96_bf16"]),
    (SCALE_SHIFT, "triton_rows", residual_select01, grid((1, 2, 4, 8)), ["qwen_edit_residual_ln_select01_8424x3072"]),
    ("h200_diffusion_qknorm_rope__multi_shape", "triton_rows", qknorm_rope, grid((1, 2, 4, 8), FEW_WARPS),
     ["qwen_image_qk_19x24_d128", "qwen_image_qk_47x24_d128", "qwen_edit_qk_195x24_d128", "zimage_qk_32x30_d128",
      "edge_neox_partial_5x2x1_d64_r32_bf16"]),
    (TANH, "triton_one_row", tanh_norm(0), grid((1, 2), (4, 8, 16)), ["zimage_tanh_4096x3840"]),
    (TANH, "triton_one_row", tanh_norm(1), grid((1, 2), (4, 8, 16)), ["zimage_tanh_norm2_4096x3840"]),
    (TANH, "triton_one_row", tanh_norm(2), grid((1, 2), (4, 8, 16)), ["zimage_tanh_residual_4096x3840"]),
    (TANH, "triton_one_row", tanh_norm(0), grid((1, 2), FEW_WARPS), ["edge_ln_affine_mixed_2x3x256_f16"]),
    (TANH, "triton_one_row", tanh_norm(1), grid((1, 2), FEW_WARPS),
     ["edge_norm2_rms_1x5x512_bf16", "edge_norm2_ln_affine_2x3x256_bf16"]),
    (NORM, "triton_rows_pdl", row_norm, grid((1, 2), (4, 8, 16)), ["qwen_image_ln_4096x3072_bf16"]),
    (NORM, "triton_rows_pdl", row_norm, grid((1, 2), FEW_WARPS), ["edge_ln_odd_37x200_f32"]),
    (NORM, "triton_rows_pdl", one_pass_rms, grid((1, 2, 4, 8, 16), FEW_WARPS),
     ["hunyuan_qk_rms_55x24_d128", "zimage_qk_rms_4096_d128", "zimage_qk_rms_16384_d128"]),
]


def main() -> int:
    print(environment.header(environment.collect(), "scripts/gpu/sweep_small_tiles.py"))
    only = set(sys.argv[1:])  # task-name fragments, to run part of the sweep
    for folder, candidate, variant, configs, case_ids in SWEEPS:
        if only and not any(fragment in folder for fragment in only):
            continue
        task = load_task(KERNELS / folder)
        module = candidate_module(task, candidate)
        names = variant.__code__.co_varnames[1:variant.__code__.co_argcount]
        settings = [(" ".join(f"{n}={v}" for n, v in zip(names, config)), variant(module, *config))
                    for config in configs]
        cases = {case.id: case for case in task.cases}
        print(f"## {folder}: {candidate}'s helpers")
        for case_id in case_ids:
            print_table(cases[case_id], time_settings(task, cases[case_id], settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
