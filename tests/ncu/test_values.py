import pytest

from kernelpilot.ncu.values import parse_number, to_base


@pytest.mark.parametrize("cell, expected", [
    ("92,265", 92265.0),            # thousands grouped by the CLI's number format
    ("1,234,567.25", 1234567.25),
    ("3,5", 3.5),                    # a decimal comma (not three digits after it)
    ("  17 ", 17.0),
    ("-0.5", -0.5),
    ("1.2e+03", 1200.0),
    ("8\u00a0192", 8192.0),          # a no-break space as the grouping character
])
def test_numbers_in_every_printed_form(cell, expected):
    assert parse_number(cell) == pytest.approx(expected)


@pytest.mark.parametrize("cell", ["", "n/a", "N/A", "(128, 1, 1)", "PolicySpread", None])
def test_cells_that_are_not_numbers(cell):
    assert parse_number(cell) is None


@pytest.mark.parametrize("value, unit, expected, base", [
    (1.5, "us", 1500.0, "ns"),
    (1.5, "usecond", 1500.0, "ns"),
    (2.0, "ms", 2e6, "ns"),
    (2.0, "msecond", 2e6, "ns"),
    (120.0, "nsecond", 120.0, "ns"),
    (268.44, "Mbyte", 268.44e6, "byte"),
    (1.0, "Gbyte", 1e9, "byte"),
    (34.816, "Kbyte/block", 34816.0, "byte/block"),
    (3.2, "Tbyte/s", 3.2e12, "byte/s"),
    (900.0, "Gbyte/second", 9e11, "byte/s"),
    (5.0, "byte/usecond", 5e6, "byte/s"),
    (1.98, "Ghz", 1.98e9, "hz"),
    (1.6, "cycle/nsecond", 1.6e9, "cycle/s"),
    (3.0, "Msector", 3e6, "sector"),
    (45.0, "%", 45.0, "%"),
    (32.0, "register/thread", 32.0, "register/thread"),
])
def test_auto_scaled_units_reach_the_base_unit(value, unit, expected, base):
    scaled, unit_out = to_base(value, unit)
    assert scaled == pytest.approx(expected)
    assert unit_out == base


def test_unknown_units_are_never_rescaled_by_a_guess():
    assert to_base(7.0, "warp/cycle-ish") == (7.0, "warp/cycle-ish")
    assert to_base(7.0, "") == (7.0, "")
