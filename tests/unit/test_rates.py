"""Unit tests for the utilisation rate, the balance identity and tonne conversions."""

from decimal import Decimal

import pytest

from wasteex.ledger.rates import (
    MAX_KG,
    FlowTotals,
    kg_to_tonnes_str,
    tonnes_to_kg,
    utilisation_rate,
)

# ----------------------------------------------------------------- rate


def test_rate_formula_counts_prior_year_storage_in_denominator():
    # 800 t generated, 100 t taken out of old stock and utilised, 700 t utilised in all
    assert utilisation_rate(700_000, 800_000, 100_000) == Decimal("0.777778")
    assert utilisation_rate(700_000, 800_000) == Decimal("0.875000")


def test_rate_rounds_half_even_to_six_places():
    assert utilisation_rate(1, 8_000_000) == Decimal("0.000000")  # 0.000000125 -> even
    assert utilisation_rate(3, 8_000_000) == Decimal("0.000000")  # 0.000000375 -> 0.000000
    assert utilisation_rate(5, 8_000_000) == Decimal("0.000001")  # 0.000000625
    assert utilisation_rate(1, 3) == Decimal("0.333333")


def test_rate_none_when_denominator_zero():
    assert utilisation_rate(0, 0, 0) is None
    assert FlowTotals().utilisation_rate is None


def test_rate_refuses_bad_inputs():
    with pytest.raises(TypeError):
        utilisation_rate(1.0, 2)
    with pytest.raises(ValueError):
        utilisation_rate(-1, 2)


# ----------------------------------------------------------------- FlowTotals


def balanced():
    # generated 1000 t = (utilised 700 - prior 100) + stored 250
    #                    + (disposed 180 - prior 30) + dumped 0
    return FlowTotals(
        generated=1_000_000,
        self_utilised=400_000,
        entrusted_utilised=300_000,
        utilised_from_prior_storage=100_000,
        self_disposed=80_000,
        entrusted_disposed=100_000,
        disposed_from_prior_storage=30_000,
        stored=250_000,
        dumped=0,
    )


def test_derived_totals_and_rate():
    t = balanced()
    assert (t.utilised, t.disposed) == (700_000, 180_000)
    assert t.utilisation_rate == Decimal("0.636364")  # 700 / 1100


def test_balanced_identity():
    t = balanced()
    assert t.balance_difference() == 0
    assert t.is_balanced()


def test_unbalanced_identity_reports_signed_difference():
    missing = FlowTotals(**{**_as_dict(balanced()), "stored": 245_500})
    assert missing.balance_difference() == 4_500  # 4.5 t unaccounted for
    assert not missing.is_balanced()
    assert missing.is_balanced(tolerance_kg=5_000)
    assert not missing.is_balanced(tolerance_kg=4_499)
    excess = FlowTotals(generated=100, self_utilised=90, dumped=20)
    assert excess.balance_difference() == -10


def test_aggregation_adds_every_field():
    a, b = balanced(), FlowTotals(generated=5, self_utilised=3, stored=2)
    total = a + b
    assert (total.generated, total.self_utilised) == (1_000_005, 400_003)
    assert total.stored == 250_002
    assert total.is_balanced()
    assert sum([a, b, b]) == a + b + b
    assert sum([], FlowTotals()) == FlowTotals()
    with pytest.raises(TypeError):
        a + 1


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"generated": -1}, ValueError),
        ({"generated": 1.5}, TypeError),
        ({"stored": True}, TypeError),
        ({"self_utilised": 10, "utilised_from_prior_storage": 11}, ValueError),
        ({"self_disposed": 10, "disposed_from_prior_storage": 11}, ValueError),
    ],
)
def test_flow_totals_validate(kwargs, exc):
    with pytest.raises(exc):
        FlowTotals(**kwargs)


def test_tolerance_cannot_be_negative():
    with pytest.raises(ValueError):
        balanced().is_balanced(tolerance_kg=-1)


def _as_dict(t):
    return {name: getattr(t, name) for name in t.__dataclass_fields__}


# ----------------------------------------------------------------- tonnes


@pytest.mark.parametrize(
    "kg, text",
    [(1_234_567, "1234.567"), (0, "0.000"), (5, "0.005"), (1000, "1.000"), (-4_500, "-4.500")],
)
def test_kg_to_tonnes_str(kg, text):
    assert kg_to_tonnes_str(kg) == text


def test_kg_to_tonnes_str_refuses_non_int():
    with pytest.raises(TypeError):
        kg_to_tonnes_str(1.5)


@pytest.mark.parametrize(
    "value, kg",
    [
        ("1234.567", 1_234_567),
        (" 12.5 ", 12_500),
        ("0.001", 1),
        ("+3", 3_000),
        ("1.5000", 1_500),  # trailing zeros are exact
        (Decimal("0.25"), 250),
        (Decimal("1E+3"), 1_000_000),
        (7, 7_000),
        ("0", 0),
    ],
)
def test_tonnes_to_kg(value, kg):
    assert tonnes_to_kg(value) == kg


@pytest.mark.parametrize(
    "value",
    [
        "1.2345",  # finer than a kilogram
        Decimal("0.0001"),
        "1." + "0" * 70 + "1",  # long enough to be rounded away by a naive context
        "-1",
        Decimal("-0.5"),
        -2,
        "abc",
        "",
        "1e3",
        "1,000",
        "1_000",
        "NaN",
        "inf",
        Decimal("NaN"),
        Decimal("Infinity"),
        1.5,  # floats are refused outright
        0.1,
        True,
        None,
        "١٢",  # non-ASCII digits
        str(MAX_KG // 1000 + 1),
        Decimal("1E+999999"),
    ],
)
def test_tonnes_to_kg_refuses(value):
    with pytest.raises(ValueError):
        tonnes_to_kg(value)


def test_tonnes_to_kg_error_message_is_clear():
    with pytest.raises(ValueError, match="more than 3 decimals"):
        tonnes_to_kg("2.0005")
    with pytest.raises(ValueError, match="negative"):
        tonnes_to_kg("-2")
    with pytest.raises(ValueError, match="float"):
        tonnes_to_kg(2.0)


def test_round_trip():
    for kg in (0, 1, 999, 1000, 1_234_567, MAX_KG):
        assert tonnes_to_kg(kg_to_tonnes_str(kg)) == kg


def test_stored_is_a_net_change_and_may_be_negative():
    # March: 100 t generated, 160 t utilised of which 60 t came out of January's stock.
    march = FlowTotals(generated=100_000, self_utilised=160_000, stored=-60_000)
    assert march.is_balanced()
    with pytest.raises(TypeError):
        FlowTotals(stored=1.0)
