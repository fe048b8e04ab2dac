"""Two faults of Triton 3.6's interpreter that kernels of ours meet, patched in the worker before any kernel runs.

- Loop bounds: the interpreter holds scalars as one-element arrays and turns one into a loop bound with
  int(array), which NumPy 2.4 refuses ("only 0-dimensional arrays can be converted to Python scalars",
  triton-lang/triton#9171, fixed after 3.6). A kernel whose loop bound is a runtime value (flash attention's key
  loop) fails under the interpreter only. The bound is converted through squeeze(), as the upstream fix does.
- bf16 matmuls: bf16 values are kept as their raw uint16 bits and `tl.dot` multiplies those bits as integers
  (products of 1e10 where the GPU gives 1). bf16 operands are widened to the fp32 values they stand for first;
  bf16 x bf16 products are exact in fp32, so this is what the GPU's fp32-accumulating MMA computes.
- fp32 -> bf16 casts truncate, where the GPU rounds to nearest even: a bf16 output carried twice the GPU's error
  (and a bias), enough to fail a tolerance set against the reference rounded once. Casts round to nearest even.
"""

from __future__ import annotations


def patch_interpreter() -> None:
    try:
        from triton.runtime import interpreter
    except ImportError:
        return
    if getattr(interpreter, "kernelpilot_patched", False):
        return
    _allow_runtime_loop_bounds(interpreter)
    _multiply_bf16_as_values(interpreter)
    _round_bf16_to_nearest_even(interpreter)
    interpreter.kernelpilot_patched = True


def _allow_runtime_loop_bounds(interpreter) -> None:
    original = interpreter._patch_lang_tensor

    def patch_lang_tensor(tensor, scope):
        original(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(self.handle.data.squeeze()))

    interpreter._patch_lang_tensor = patch_lang_tensor


def _multiply_bf16_as_values(interpreter) -> None:
    import numpy as np
    import triton.language as tl

    original = interpreter.InterpreterBuilder.create_dot

    def widened(handle):
        if handle.dtype != tl.bfloat16:
            return handle
        return interpreter.TensorHandle((handle.data.astype(np.uint32) << 16).view(np.float32), tl.float32)

    def create_dot(self, a, b, d, input_precision, max_num_imprecise_acc):
        return original(self, widened(a), widened(b), d, input_precision, max_num_imprecise_acc)

    interpreter.InterpreterBuilder.create_dot = create_dot


def _round_bf16_to_nearest_even(interpreter) -> None:
    import numpy as np
    import triton.language as tl

    original = interpreter.InterpreterBuilder.cast_impl

    def cast_impl(self, src, dst_type):
        if src.dtype.scalar != tl.float32 or dst_type.scalar != tl.bfloat16:
            return original(self, src, dst_type)
        bits = src.data.astype(np.float32).view(np.uint32)
        rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
        rounded = np.where(np.isnan(src.data), np.uint32(0x7FC0), rounded)  # a NaN's payload must not round to Inf
        return interpreter.TensorHandle(rounded.astype(np.uint16), tl.bfloat16)

    interpreter.InterpreterBuilder.cast_impl = cast_impl
