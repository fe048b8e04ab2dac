"""The host-side helpers of the lean launch path agree with what they stand in for (CPU)."""

import pytest
import torch
import triton

from kernelpilot.launch import CachedLauncher, broadcast_strides, ceil_div, next_pow2, rows_for_programs


def test_ceil_div_and_next_pow2_agree_with_triton():
    for n in range(0, 5000):
        assert next_pow2(n) == triton.next_power_of_2(n)
        for d in (1, 3, 16, 128):
            assert ceil_div(n, d) == triton.cdiv(n, d)


@pytest.mark.parametrize("most, n_rows, programs, expected", [
    (4, 4096, 264, 4),  # 1024 programs of 4 rows: enough
    (4, 1000, 264, 2),  # 250 programs of 4 fall short; 500 of 2 do not
    (8, 19, 264, 1),  # never below one row
    (1, 5, 48, 1),
])
def test_rows_for_programs_halves_until_the_grid_is_large_enough(most, n_rows, programs, expected):
    assert rows_for_programs(most, n_rows, programs) == expected


@pytest.mark.parametrize("shape, target", [
    ((3072,), (2, 19, 3072)), ((1, 3072), (2, 19, 3072)), ((2, 1, 3072), (2, 19, 3072)),
    ((2, 19, 3072), (2, 19, 3072)), ((1, 1, 1), (2, 5, 96)), ((1, 19, 3072), (1, 19, 3072)),
])
def test_broadcast_strides_match_expand(shape, target):
    t = torch.empty(shape)
    assert broadcast_strides(t, target) == t.expand(*target).stride()
    strided = torch.empty(*shape[:-1], 2 * shape[-1])[..., ::2]  # a last-dim stride of 2
    assert broadcast_strides(strided, target) == strided.expand(*target).stride()


@pytest.mark.parametrize("shape, target", [((3, 3072), (2, 19, 3072)), ((2, 19, 3072, 1), (2, 19, 3072))])
def test_broadcast_strides_rejects_what_expand_rejects(shape, target):
    t = torch.empty(shape)
    with pytest.raises(RuntimeError):
        t.expand(*target)
    with pytest.raises(ValueError, match="operand"):
        broadcast_strides(t, target)


def test_pdl_is_off_under_the_interpreter(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert CachedLauncher(object(), pdl=True).pdl is False
    assert CachedLauncher(object()).pdl is None
