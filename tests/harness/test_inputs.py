"""Case arguments for quantized ops: int8 tensors (whole range by default, any strides) and dtype-valued literals."""

import pytest
import torch

from kernelpilot import schemas
from kernelpilot.errors import KernelPilotError
from kernelpilot.harness.inputs import make_args, refill_args, upcast
from kernelpilot.harness.spec import Case

COLUMN_MAJOR_B = {"shape": [256, 64], "dtype": "int8", "strides": [1, 256]}


def _case(**args) -> Case:
    return Case(id="case", op="op", args=args, source={"model": "test"})


def test_int8_draws_cover_the_whole_range_by_default():
    b = make_args(_case(b=COLUMN_MAJOR_B), seed=1, device="cpu")["b"]
    assert b.dtype == torch.int8 and b.stride() == (1, 256)
    assert (b.min().item(), b.max().item()) == (-128, 127)


def test_int8_draws_keep_to_low_and_high():
    a = make_args(_case(a={"shape": [64, 64], "dtype": "int8", "low": -3, "high": 4}), seed=1, device="cpu")["a"]
    assert set(a.unique().tolist()) == set(range(-3, 4))


def test_refilled_int8_buffers_get_new_values_in_place():
    case = _case(b=COLUMN_MAJOR_B)
    values = make_args(case, seed=1, device="cpu")
    before, pointer = values["b"].clone(), values["b"].data_ptr()
    refill_args(case, values, seed=2)
    assert values["b"].data_ptr() == pointer and not torch.equal(values["b"], before)


def test_a_range_that_does_not_fit_int8_is_refused():
    with pytest.raises(KernelPilotError, match=r"randint range \[0, 300\) .* int8"):
        make_args(_case(a={"shape": [4], "dtype": "int8", "low": 0, "high": 300}), seed=1, device="cpu")


def test_the_reference_gets_int8_tensors_as_they_are():
    values = make_args(_case(b=COLUMN_MAJOR_B, s={"shape": [4], "dtype": "float32"}), seed=1, device="cpu")
    copies = upcast(values, torch.float64)
    assert copies["b"].dtype == torch.int8 and torch.equal(copies["b"], values["b"])
    assert copies["s"].dtype == torch.float64


def test_a_torch_dtype_literal_is_passed_as_the_dtype_and_other_strings_as_written():
    values = make_args(_case(out_dtype="torch.float16", mode="torch-free text"), seed=1, device="cpu")
    assert values == {"out_dtype": torch.float16, "mode": "torch-free text"}


def test_an_unknown_torch_dtype_literal_is_one_line_naming_it():
    with pytest.raises(KernelPilotError, match="'torch.float7' names no dtype"):
        make_args(_case(out_dtype="torch.float7"), seed=1, device="cpu")


def test_workloads_schema_accepts_int8_tensors():
    schemas.validate({"cases": [{"id": "c", "op": "op", "source": {"model": "m"},
                                 "args": {"b": COLUMN_MAJOR_B, "out_dtype": "torch.float16"}}]},
                     "workloads", "test")
