"""The one number grammar (core/numbers.py) every CLI option and window field uses, and the
read-outs that must parse back through it."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visualizer.core.errors import ParameterError
from visualizer.core.formatting import num, over_255, signed
from visualizer.core.numbers import parse_number, parse_numbers, parse_whole


@pytest.mark.parametrize("text,value", [
    ("0.03", 0.03), ("8/255", 8 / 255), ("0.5/255", 0.5 / 255), ("8 / 255", 8 / 255), (" 8/255 ", 8 / 255),
    ("\t0.5 /255\n", 0.5 / 255), ("1e-3/2", 1e-3 / 2), ("1E-3", 1e-3), ("2e+1", 20.0), (".5", 0.5), ("5.", 5.0),
    ("-8/255", -8 / 255), ("+0.1", 0.1), ("1/-2", -0.5), ("\u22123/255", -3 / 255), ("1.5e-2/0.5", 0.03),
    ("255/255", 1.0), ("0", 0.0), ("1e-400", 0.0),
])
def test_accepted(text, value):
    assert parse_number(text, "Epsilon") == pytest.approx(value, rel=1e-15, abs=0)


@pytest.mark.parametrize("text,words", [
    ("", "must be a number"), ("   ", "must be a number"), ("abc", "must be a number"), ("eight", "must be a number"),
    ("8//255", "must be a number"), ("1/2/3", "must be a number"), ("8/", "must be a number"),
    ("/255", "must be a number"), ("1_000", "must be a number"), ("0x10", "must be a number"),
    ("1,5", "must be a number"), ("8 255", "must be a number"), ("e3", "must be a number"),
    ("\u0663", "must be a number"),    # an Arabic-Indic three: float() takes it, the grammar does not
    ("inf", "finite"), ("-Infinity", "finite"), ("nan", "finite"), ("1e999", "finite"), ("1e308/1e-308", "finite"),
    ("1/0", "divides by zero"), ("0.5/0.0", "divides by zero"),
])
def test_refused_with_the_field_named(text, words):
    with pytest.raises(ParameterError) as excinfo:
        parse_number(text, "Epsilon")
    message = str(excinfo.value)
    assert message.startswith("Epsilon ") and words in message and repr(text) in message


def test_huge_exponents_are_cheap():
    # Fraction('1e999999999') would build a billion-digit integer: the grammar must not.
    with pytest.raises(ParameterError, match="finite"):
        parse_number("1e999999999/1e999999999", "Epsilon")


def test_whole_numbers():
    assert parse_whole("10", "Steps") == 10 and parse_whole(" 1e3 ", "Steps") == 1000
    assert parse_whole("20/2", "Steps") == 10 and parse_whole("10.0", "Steps") == 10
    assert parse_whole(str(2**62 + 1), "Seed") == 2**62 + 1        # exact, not through a float
    for bad in ("2.5", "1/3", "ten", "inf", ""):
        with pytest.raises(ParameterError, match="Steps must be a whole number"):
            parse_whole(bad, "Steps")


def test_lists():
    assert parse_numbers("0.485, 0.456 ,0.406", "Mean") == (0.485, 0.456, 0.406)
    assert parse_numbers("124/255;116/255;104/255", "Mean") == (124 / 255, 116 / 255, 104 / 255)
    assert parse_numbers("0.5", "Std") == (0.5,)
    for bad, words in (("0.5,,0.5", "empty item"), ("0.5,", "empty item"), ("", "needs comma-separated"),
                       ("0.5,x", "must be a number")):
        with pytest.raises(ParameterError, match=words):
            parse_numbers(bad, "Mean")


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(finite)
def test_repr_round_trips_exactly(x):
    assert parse_number(repr(x)) == x
    assert parse_number(f"  {x!r}  ") == x


@settings(max_examples=300, deadline=None)
@given(finite, finite.filter(lambda b: b != 0), st.sampled_from(["/", " / ", "/ ", " /"]))
def test_a_over_b_is_the_float_quotient(a, b, slash):
    q = a / b
    if math.isfinite(q):
        assert parse_number(f"{a!r}{slash}{b!r}") == q
    else:
        with pytest.raises(ParameterError, match="finite"):
            parse_number(f"{a!r}{slash}{b!r}")


budgets = st.floats(min_value=1e-9, max_value=1.0)


@settings(max_examples=300, deadline=None)
@given(budgets)
def test_read_outs_parse_back_to_the_value_they_show(x):
    # What the window's epsilon read-out and the figures print must be typable back in.
    assert parse_number(num(x)) == pytest.approx(x, rel=5e-3)
    assert parse_number(over_255(x)) == pytest.approx(x, rel=5e-3)
    assert parse_number(signed(-x * 255) + "/255") == pytest.approx(-x, rel=5e-3)
