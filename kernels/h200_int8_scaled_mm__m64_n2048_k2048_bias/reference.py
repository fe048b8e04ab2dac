"""R for the int8 scaled GEMM, and the FLOP count of a case.

Called on the harness's float64 copies (scales and bias upcast; a and b stay int8) it is the oracle: a and b are
multiplied in float64, where every sum of K products of int8 values is an exact integer (|sum| <= K * 2^14, far
below 2^53), and the scales and bias are applied in float64. Called on the inputs as they are it is the
`torch_eager` baseline, torch's int8 path: `torch._int_mm` (cuBLASLt's int8 GEMM, int32 accumulation), then the
scales and bias in fp32 and one rounding to out_dtype; `torch_compile` compiles the same chain.
"""

import torch


def int8_scaled_mm(a, b, scale_a, scale_b, out_dtype, bias=None):
    if scale_a.dtype == torch.float64:  # the oracle's copies: exact products, no rounding to out_dtype
        acc, out_dtype = a.to(torch.float64) @ b.to(torch.float64), torch.float64
    else:
        acc = torch._int_mm(a, b).to(torch.float32)
    out = acc * scale_a.to(acc.dtype) * scale_b.to(acc.dtype)
    if bias is not None:
        out = out + bias.to(acc.dtype)
    return out.to(out_dtype)


def scaled_mm_flops(a, b, **_):
    """2*M*N*K: a multiply and an add per int8 product (the epilogue's few M*N operations are left out)."""
    return 2 * a.shape[0] * a.shape[1] * b.shape[1]
