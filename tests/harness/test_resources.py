"""The occupancy arithmetic, against figures worked by hand from CUDA's occupancy calculator rules for sm_90."""

import pytest

from pathlib import Path

from kernelpilot.harness.resources import access_widths, instruction_counts, late_loads, resident_warps, sass_digest

KERNELS = Path(__file__).resolve().parents[2] / "kernels"
QKNORM = KERNELS / "h200_diffusion_qknorm_rope__multi_shape"
MODULATED = KERNELS / "h200_diffusion_norm_scale_shift__multi_shape"


@pytest.mark.parametrize(("warps", "registers", "shared", "expected"), [
    (4, 163, 1040, (12, "registers")),  # 163 x 32 -> 5376 a warp; 65536 / 5376 = 12 warps, a multiple of 4
    (4, 95, 1040, (20, "registers")),  # 3072 a warp; 21 warps, rounded down to the group of 4
    (4, 62, 1040, (32, "registers")),  # 2048 a warp; 32 warps
    (4, 32, 1040, (64, "warps")),  # 1024 a warp would allow 64: the 64-warp ceiling binds as well
    (8, 255, 1040, (8, "registers")),  # 8192 a warp: 8 warps, one block of 8
    (1, 16, 1024, (32, "blocks")),  # 32 one-warp blocks at most
    (4, 32, 100 * 1024, (8, "shared memory")),  # two 100 KB blocks fit 228 KB
])
def test_resident_warps(warps, registers, shared, expected):
    assert resident_warps(warps, registers, shared) == expected


def test_access_widths_count_global_loads_and_stores_by_width():
    sass = """
        /*0100*/                   LDG.E.128 R4, desc[UR4][R2.64] ;
        /*0110*/                   LDG.E.128.CONSTANT R8, desc[UR4][R6.64] ;
        /*0120*/                   LDG.E R12, desc[UR4][R10.64] ;
        /*0130*/                   LDG.E.U16 R13, desc[UR4][R10.64+0x2] ;
        /*0140*/                   LDS R14, [R15] ;
        /*0150*/                   STG.E.64 desc[UR4][R16.64], R18 ;
        /*0160*/                   STG.E.128 desc[UR4][R20.64], R4 ;
        /*0170*/                   LDL R22, [R1+0x10] ;
    """
    assert access_widths(sass) == ({128: 2, 32: 1, 16: 1}, {64: 1, 128: 1})


def test_the_sass_digest_reads_instructions_not_addresses_or_encodings():
    listing = """
        Function : _kernel
        /*0000*/                   LDC R1, c[0x0][0x28] ;                 /* 0x00000a00ff017b82 */
                                                                          /* 0x000fe40000000800 */
        /*0010*/                   LDG.E.128 R4, desc[UR4][R2.64] ;        /* 0x0000000402047981 */
    """
    moved = listing.replace("/*0010*/", "/*0020*/").replace("0x0000000402047981", "0x1111111111111111")
    narrower = listing.replace("LDG.E.128", "LDG.E.64")
    assert sass_digest(listing) == sass_digest(moved) != sass_digest(narrower)
    assert sass_digest("") != sass_digest(listing)


def test_instruction_counts_read_the_largest_loop_body_and_skip_the_closing_trap():
    sass = """
        /*0000*/                   LDC R1, c[0x0][0x28] ;
        /*0010*/                   LDG.E.128 R4, desc[UR4][R2.64] ;
        /*0020*/                   FMUL R5, R4, R4 ;
        /*0030*/               @P0 BRA 0x10 ;
        /*0040*/                   IADD3 R2, R2, 0x1, RZ ;
        /*0050*/               @P1 BRA 0x60 ;
        /*0060*/                   EXIT ;
        /*0070*/                   BRA 0x70;
    """
    assert instruction_counts(sass) == (8, 3)  # the loop 0x10-0x30; the forward branch and the trap are none
    assert instruction_counts(sass.replace("@P0 BRA 0x10", "@P0 BRA 0x40")) == (8, 0)


def test_late_loads_count_from_the_first_shuffle_or_barrier():
    sass = """
        /*0000*/                   LDG.E.U16 R4, desc[UR4][R8.64] ;
        /*0010*/                   STS.U16 [R9], R4 ;
        /*0020*/                   BAR.SYNC.DEFER_BLOCKING 0x0 ;
        /*0030*/               @!P0 LDG.E.64 R6, desc[UR4][R18.64] ;
        /*0040*/                   LDG.E.128 R4, desc[UR4][R20.64+0x100] ;
        /*0050*/                   LDS.U16 R12, [R16+UR4] ;
        /*0060*/                   SHFL.BFLY PT, R13, R16, 0x8, 0x1f ;
        /*0070*/                   LDG.E.128 R8, desc[UR4][R20.64] ;
    """
    assert late_loads(sass) == 3
    assert late_loads(sass.replace("BAR.SYNC.DEFER_BLOCKING 0x0", "NOP")) == 1  # behind the shuffle only
    assert late_loads(sass.replace("BAR.SYNC.DEFER_BLOCKING 0x0", "NOP").replace("SHFL.BFLY", "FADD")) == 0


def test_compiled_for_sm90_the_load_order_fixes_leave_no_load_late():
    """On the CPU: qknorm_rope's triton_rows converts the weight's layout through shared memory and its positions'
    and cos/sin loads wait behind that barrier; norm_scale_shift's one-row kernel has ptxas put the modulation's
    loads after the reduction's first shuffles. Their load-order candidates leave none late."""
    from kernelpilot.harness import runner
    from kernelpilot.harness.spec import load_task

    def late(task, names, case):
        outcome = runner.compile_candidates(load_task(task), names, [case])
        return {name: result.cases[case]["resources"][0]["late_loads"] for name, result in outcome.results.items()}

    assert late(QKNORM, ["triton_rows", "triton_rows_no_barrier"], "qwen_image_qk_47x24_d128") == \
        {"triton_rows": 3, "triton_rows_no_barrier": 0}
    assert late(MODULATED, ["triton_one_row_four_warps", "triton_one_row_loads_first"], "hunyuan_55x3072_sbd") == \
        {"triton_one_row_four_warps": 6, "triton_one_row_loads_first": 0}
