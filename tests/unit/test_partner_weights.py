"""One reading of a weight into grams for every partner: the number's decimal text exactly,
half up to the gram, so the same parcel weighs the same whoever reports it (SOP L6 decides at
the gram: 449 g after a 500 g pickup is a weight drop, 450 g is not)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from services.intake.partners.adapter import PayloadInvalid
from services.intake.partners.desipost import DesipostAdapter
from services.intake.partners.rapidroute import RapidRouteAdapter
from services.intake.partners.swiftship import SwiftshipAdapter
from services.notifications.replies.parsing import InboundEmail
from shared.weights import WeightUnit, WeightUnreadable, grams, grams_from_text
from tests.support.factories import desipost_snapshot, rapidroute_batch, rapidroute_event

SWIFTSHIP_HEADERS = {"webhook-id": "msg_weight_1"}
WEIGHT = "__weight__"

# (kilograms as written, grams): half up to the gram, never through a binary float.
KILOGRAMS = [
    ("0.4495", 450),  # round(0.4495 * 1000) on a float is 449
    ("0.4505", 451),  # half-to-even would give 450
    ("1.0005", 1001),  # 1.0005 * 1000 is 1000.4999999999999 as a float
    ("0.4494", 449),
    ("0.45", 450),
    ("0.452", 452),
    ("4.495e-1", 450),
    ("0.44949999999999999999", 449),  # a float reads this as 0.4495
    ("0.44950000000000000001", 450),
    ("12", 12000),
    ("0", 0),
    ("1000", 1_000_000),
]
GRAMS = [
    ("449.5", 450),
    ("450.5", 451),
    ("449.4999999999999999", 449),
    ("450", 450),
    ("4.5e2", 450),
    ("0", 0),
]
# What cannot be a weight: refused 422 naming the field, never a 500 nor a guess.
# A negative weight too small for a float (`-1e-400`) was read as -0.0 and passed as 0 g.
NOT_KILOGRAMS = [
    "-0.45",
    "1000.001",
    "1e9",
    "1e999999",
    "NaN",
    "Infinity",
    "true",
    '"heavy"',
    "-1e-400",
    "-4.5e-330",
]
NOT_GRAMS = [
    "-1",
    "1000000.5",
    "1e7",
    "NaN",
    "-Infinity",
    "false",
    '"450 g"',
    "[450]",
    "-1e-400",
    "-0.0000000000000000000000000000000000000000000000000000000000001",
]
# Zero written with a minus is zero (no reading), as its text says; so is a positive underflow.
ZEROS = ["-0", "-0.0", "-0e5", "0.0", "1e-400"]


def _swiftship(weight_text: str) -> bytes:
    body = {
        "event": "return.picked_up",
        "awb": "SS100200300",
        "return_ref": "RET-000123",
        "at": "2026-11-26T09:23:00+05:30",
        "weight_kg": WEIGHT,
    }
    return json.dumps(body).replace(f'"{WEIGHT}"', weight_text).encode()


def _rapidroute(weight_text: str) -> bytes:
    events = [rapidroute_event("RET-000124", "RPU", event_id=f"evt_{i}") for i in range(3)]
    events[1]["weight_g"] = WEIGHT
    return rapidroute_batch(events).decode().replace(f'"{WEIGHT}"', weight_text).encode()


def _desipost(weight: str) -> bytes:
    body = json.loads(
        desipost_snapshot("RET-000125", "DP77001234", [("PICKED UP", "24-11-2026 15:43:02")])
    )
    body["scans"][0]["weight"] = weight
    return json.dumps(body).encode()


@pytest.mark.parametrize("text, expected", KILOGRAMS)
def test_swiftship_kilograms_are_read_from_their_text(text: str, expected: int) -> None:
    (scan,) = SwiftshipAdapter().parse(headers=SWIFTSHIP_HEADERS, body=_swiftship(text))
    assert scan.weight_g == expected


@pytest.mark.parametrize("text, expected", KILOGRAMS)
def test_swiftship_kilograms_sent_as_a_string_read_the_same(text: str, expected: int) -> None:
    (scan,) = SwiftshipAdapter().parse(headers=SWIFTSHIP_HEADERS, body=_swiftship(f'"{text}"'))
    assert scan.weight_g == expected


@pytest.mark.parametrize("text", NOT_KILOGRAMS)
def test_swiftship_refuses_what_cannot_be_a_weight_naming_the_field(text: str) -> None:
    with pytest.raises(PayloadInvalid) as refused:
        SwiftshipAdapter().parse(headers=SWIFTSHIP_HEADERS, body=_swiftship(text))
    assert [e["field"] for e in refused.value.errors] == ["body.weight_kg"]


@pytest.mark.parametrize("text, expected", GRAMS)
def test_rapidroute_grams_are_read_from_their_text(text: str, expected: int) -> None:
    scans = RapidRouteAdapter().parse(headers={}, body=_rapidroute(text))
    assert [s.weight_g for s in scans] == [380, expected, 380]


@pytest.mark.parametrize("text, expected", GRAMS)
def test_rapidroute_grams_sent_as_a_string_read_the_same(text: str, expected: int) -> None:
    scans = RapidRouteAdapter().parse(headers={}, body=_rapidroute(f'"{text}"'))
    assert scans[1].weight_g == expected


@pytest.mark.parametrize("text", NOT_GRAMS)
def test_rapidroute_refuses_what_cannot_be_a_weight_naming_the_field(text: str) -> None:
    with pytest.raises(PayloadInvalid) as refused:
        RapidRouteAdapter().parse(headers={}, body=_rapidroute(text))
    assert [e["field"] for e in refused.value.errors] == ["body.events.1.weight_g"]


@pytest.mark.parametrize("text", ZEROS)
def test_zero_with_a_minus_is_zero_from_every_partner(text: str) -> None:
    (swift,) = SwiftshipAdapter().parse(headers=SWIFTSHIP_HEADERS, body=_swiftship(text))
    rapid = RapidRouteAdapter().parse(headers={}, body=_rapidroute(text))[1]
    assert swift.weight_g == rapid.weight_g == 0


@pytest.mark.parametrize(
    "weight, expected",
    [(f"{text} kg", grams_) for text, grams_ in KILOGRAMS if "e" not in text]
    + [(f"{text} g", grams_) for text, grams_ in GRAMS if "e" not in text],
)
def test_desipost_weights_with_units_read_the_same(weight: str, expected: int) -> None:
    (scan,) = DesipostAdapter().parse(headers={}, body=_desipost(weight))
    assert scan.weight_g == expected


@pytest.mark.parametrize("weight", ["-0.45 kg", "1000.001 kg", "NaN kg", "0.45 lb", "450"])
def test_desipost_refuses_what_cannot_be_a_weight_naming_the_field(weight: str) -> None:
    with pytest.raises(PayloadInvalid) as refused:
        DesipostAdapter().parse(headers={}, body=_desipost(weight))
    assert [e["field"] for e in refused.value.errors] == ["body.scans.0.weight"]


def test_the_same_parcel_weighs_the_same_from_every_partner() -> None:
    (swift,) = SwiftshipAdapter().parse(headers=SWIFTSHIP_HEADERS, body=_swiftship("0.4495"))
    rapid = RapidRouteAdapter().parse(headers={}, body=_rapidroute("449.5"))[1]
    (desi,) = DesipostAdapter().parse(headers={}, body=_desipost("0.4495 kg"))
    assert swift.weight_g == rapid.weight_g == desi.weight_g == 450


@pytest.mark.parametrize(
    "amount, unit, expected",
    [
        ("0.4495", WeightUnit.KILOGRAM, 450),
        (Decimal("1.0005"), WeightUnit.KILOGRAM, 1001),
        (450, WeightUnit.GRAM, 450),
        (" 449.5 ", WeightUnit.GRAM, 450),
        ("-0", WeightUnit.KILOGRAM, 0),
    ],
)
def test_grams_reads_text_decimals_and_integers(
    amount: str | Decimal | int, unit: WeightUnit, expected: int
) -> None:
    assert grams(amount, unit) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0.4494" + "9" * 50, 449),  # past the 32nd digit, cut: never carried over the line
        ("0.4495" + "0" * 50 + "1", 450),
        ("0.4" + "9" * 50, 500),
        ("999.9994999999999999999999999999999999", 999_999),
    ],
)
def test_many_decimals_round_as_their_exact_value(text: str, expected: int) -> None:
    assert grams(Decimal(text), WeightUnit.KILOGRAM) == expected
    (scan,) = SwiftshipAdapter().parse(headers=SWIFTSHIP_HEADERS, body=_swiftship(text))
    assert scan.weight_g == expected


def test_over_1000_kg_by_a_digit_past_the_32nd_is_still_over() -> None:
    with pytest.raises(PayloadInvalid):
        SwiftshipAdapter().parse(
            headers=SWIFTSHIP_HEADERS, body=_swiftship("1000." + "0" * 40 + "1")
        )


@pytest.mark.parametrize(
    "amount", [0.4495, True, "0x10", "٤٥٠", "1_000", "+1", "1." + "0" * 70, Decimal("NaN")]
)
def test_grams_refuses_floats_and_what_is_not_a_decimal(amount: object) -> None:
    with pytest.raises(WeightUnreadable):
        grams(amount, WeightUnit.GRAM)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("it weighed 0.4495 kg", 450),
        ("449.5 g", 450),
        ("1.0005 kg", 1001),
        ("0,4505 kg", 451),
        ("४४९.५ g", 450),
        # A comma before exactly three digits groups thousands, as sellers here write them.
        ("it weighed 1,000 g", 1000),
        ("1,200 grams", 1200),
        ("1,200.5 g", 1201),
        ("1,00,000 g", 100000),
        ("0,450 kg", 450),
        ("1,5 kg", 1500),
    ],
)
def test_a_sellers_emailed_weight_is_read_as_a_partners_is(text: str, expected: int) -> None:
    mail = InboundEmail(
        message_id="m", sender="s@example.com", recipients=[], subject="", text=text
    )
    assert mail.stated_weight_g() == expected


def test_grams_from_text_is_desiposts_spelling() -> None:
    assert grams_from_text("0.4495 kg") == grams("0.4495", WeightUnit.KILOGRAM) == 450
