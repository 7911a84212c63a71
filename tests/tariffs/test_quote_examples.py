"""Worked examples of the tariff maths, each computed by hand in the comments (no database)."""

import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from vending.exceptions import AmountOutOfRange
from vending.i18n import LANGUAGES, render
from vending.sms.gsm7 import is_gsm7
from vending.tariffs import (
    BlockUse,
    MonthToDate,
    Quote,
    TariffSpec,
    amount_needed_for_kwh,
    format_money,
    quote,
)

# The Somali demo tariff: $0.95/kWh, 5 % VAT, $2 fixed charge, 10 % debt recovery.
SOMALI_FLAT = TariffSpec(
    currency="USD",
    kind="flat",
    price_per_kwh=D("0.9500"),
    vat_percent=D("5"),
    fixed_monthly_charge=D("2.00"),
    debt_recovery_percent=D("10"),
    min_purchase=D("1"),
    max_purchase=D("500"),
)
# Kenyan blocks per calendar month: 0-30 kWh at 12.23, 30-100 at 16.54, above at 19.08; 16 % VAT, KES 22 fixed.
KENYA_BLOCKS = TariffSpec(
    currency="KES",
    kind="blocks",
    blocks=((D("30"), D("12.2300")), (D("100"), D("16.5400")), (None, D("19.0800"))),
    vat_percent=D("16"),
    fixed_monthly_charge=D("22"),
    min_purchase=D("20"),
    max_purchase=D("35000"),
)


def test_flat_usd_first_purchase_with_fixed_charge_and_debt():
    # $10: fixed 2.00 → 8.00 left; debt 10 % of 8.00 = 0.80 (balance 20 is enough) → 7.20 pays energy with VAT;
    # VAT = 7.20 x 5/105 = 0.342857… → 0.34 (down); energy 6.86; 6.86 / 0.95 = 7.22105… kWh → 7.3 (up).
    q = quote(tariff=SOMALI_FLAT, amount=D("10"), month=MonthToDate(debt_balance=D("20.00")))
    assert (q.fixed_charge, q.debt_recovery, q.vat, q.energy_amount) == (D("2.00"), D("0.80"), D("0.34"), D("6.86"))
    assert q.kwh == D("7.3") and q.units == 73
    assert q.blocks_used == (BlockUse(D("7.3"), D("0.9500"), D("6.86")),)
    assert q.breakdown() == "USD 10: energy 6.86, VAT 0.34, fixed 2.00, debt 0.80 = 7.3 kWh"


def test_block_tariff_first_purchase_crosses_a_block_boundary():
    # KES 500 at the start of the month: fixed 22 → 478; VAT = 478 x 16/116 = 65.9310… → 65.93; energy 412.07.
    # Block 1: 30 kWh x 12.23 = 366.90 → 45.17 left; block 2: 45.17 / 16.54 = 2.73095… kWh.
    # Total 32.73095… → 32.8 kWh; the round-up shows in the last block (32.8 - 30 = 2.8).
    q = quote(tariff=KENYA_BLOCKS, amount=D("500"), month=MonthToDate())
    assert (q.fixed_charge, q.debt_recovery, q.vat, q.energy_amount) == (D("22.00"), D("0"), D("65.93"), D("412.07"))
    assert q.kwh == D("32.8") and q.units == 328
    assert q.blocks_used == (BlockUse(D("30"), D("12.2300"), D("366.90")), BlockUse(D("2.8"), D("16.5400"), D("45.17")))
    assert q.breakdown() == "KES 500: energy 412.07, VAT 65.93, fixed 22.00 = 32.8 kWh"
    assert q.blocks_breakdown() == "30.0 kWh x 12.23 + 2.8 kWh x 16.54"


def test_second_purchase_of_the_month_skips_fixed_charge_and_continues_the_blocks():
    # Already 32.8 kWh this month and the fixed charge is paid. KES 500: VAT = 500 x 16/116 = 68.9655… → 68.96;
    # energy 431.04; block 2 has 67.2 kWh left (costing 1,111.48) so all of it goes there:
    # 431.04 / 16.54 = 26.0604… → 26.1 kWh.
    q = quote(tariff=KENYA_BLOCKS, amount=D("500"), month=MonthToDate(kwh_bought=D("32.8"), fixed_charge_paid=True))
    assert (q.fixed_charge, q.vat, q.energy_amount) == (D("0"), D("68.96"), D("431.04"))
    assert q.kwh == D("26.1")
    assert q.blocks_used == (BlockUse(D("26.1"), D("16.5400"), D("431.04")),)
    assert q.breakdown() == "KES 500: energy 431.04, VAT 68.96 = 26.1 kWh"


def test_purchase_fills_the_second_block_and_spills_into_the_open_one():
    # 95 kWh already, fixed paid, KES 1,000: VAT = 1000 x 16/116 = 137.9310… → 137.93; energy 862.07.
    # Block 2: 5 kWh x 16.54 = 82.70 → 779.37 left; open block: 779.37 / 19.08 = 40.8474… kWh.
    # Total 45.8474… → 45.9 kWh (40.9 in the open block).
    q = quote(tariff=KENYA_BLOCKS, amount=D("1000"), month=MonthToDate(kwh_bought=D("95"), fixed_charge_paid=True))
    assert q.energy_amount == D("862.07")
    assert q.blocks_used == (BlockUse(D("5"), D("16.5400"), D("82.70")), BlockUse(D("40.9"), D("19.0800"), D("779.37")))
    assert q.kwh == D("45.9")


def test_month_already_past_every_threshold_buys_at_the_top_price():
    # 250 kWh already: all KES 116 (VAT 16.00, energy 100.00) at 19.08 → 5.2410… → 5.3 kWh.
    q = quote(tariff=KENYA_BLOCKS, amount=D("116"), month=MonthToDate(kwh_bought=D("250"), fixed_charge_paid=True))
    assert (q.vat, q.energy_amount, q.kwh) == (D("16.00"), D("100.00"), D("5.3"))


def test_kwh_is_rounded_up_to_the_next_tenth_but_never_when_exact():
    flat = TariffSpec(currency="KES", kind="flat", price_per_kwh=D("20"), min_purchase=D("10"), max_purchase=D("10000"))
    # 100 / 20 = 5 kWh exactly; 101 / 20 = 5.05 kWh → 5.1; 100.01 / 20 = 5.0005 → 5.1.
    assert quote(tariff=flat, amount=D("100"), month=MonthToDate()).units == 50
    assert quote(tariff=flat, amount=D("101"), month=MonthToDate()).kwh == D("5.1")
    assert quote(tariff=flat, amount=D("100.01"), month=MonthToDate()).units == 51


def test_debt_recovery_is_capped_at_the_balance():
    # Fixed paid; $10: 10 % = 1.00 but only 0.50 is owed → 0.50; 9.50 left; VAT = 9.50 x 5/105 = 0.45238… → 0.45;
    # energy 9.05; 9.05 / 0.95 = 9.5263… → 9.6 kWh.
    q = quote(tariff=SOMALI_FLAT, amount=D("10"), month=MonthToDate(fixed_charge_paid=True, debt_balance=D("0.50")))
    assert (q.fixed_charge, q.debt_recovery, q.vat, q.energy_amount, q.kwh) == (
        D("0.00"),
        D("0.50"),
        D("0.45"),
        D("9.05"),
        D("9.6"),
    )


def test_debt_recovery_rounds_down_in_the_customers_favour():
    # Fixed paid; $1.99: 10 % = 0.199 → 0.19; 1.80 left; VAT = 1.80 x 5/105 = 0.0857… → 0.08; energy 1.72.
    q = quote(tariff=SOMALI_FLAT, amount=D("1.99"), month=MonthToDate(fixed_charge_paid=True, debt_balance=D("20")))
    assert (q.debt_recovery, q.vat, q.energy_amount) == (D("0.19"), D("0.08"), D("1.72"))


def test_slsh_has_no_decimals():
    # SLSH 100,000 at SLSH 9,000/kWh with 5 % VAT: VAT = 100000 x 5/105 = 4761.90… → 4,761; energy 95,239;
    # 95239 / 9000 = 10.582… → 10.6 kWh.
    slsh = TariffSpec(
        currency="SLSH",
        kind="flat",
        price_per_kwh=D("9000"),
        vat_percent=D("5"),
        min_purchase=D("5000"),
        max_purchase=D("5000000"),
    )
    q = quote(tariff=slsh, amount=D("100000"), month=MonthToDate())
    assert (q.vat, q.energy_amount, q.kwh) == (D("4761"), D("95239"), D("10.6"))
    assert q.breakdown() == "SLSH 100,000: energy 95,239, VAT 4,761 = 10.6 kWh"
    with pytest.raises(AmountOutOfRange, match=r"SLSH 12,000"):
        quote(tariff=slsh, amount=D("12000.50"), month=MonthToDate())


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("19.99", "The amount must be between KES 20 and KES 35,000."),
        ("35000.01", "The amount must be between KES 20 and KES 35,000."),
        ("0", "The amount must be more than zero."),
        ("-50", "The amount must be more than zero."),
        ("NaN", "The amount must be more than zero."),
        ("100.005", "That amount has too many decimals. Please enter it like KES 100."),
    ],
)
def test_refusals_say_what_is_allowed(amount, message):
    with pytest.raises(AmountOutOfRange) as caught:
        quote(tariff=KENYA_BLOCKS, amount=D(amount), month=MonthToDate())
    assert str(caught.value) == message


def test_refusal_carries_a_key_each_language_can_render():
    with pytest.raises(AmountOutOfRange) as caught:
        quote(tariff=SOMALI_FLAT, amount=D("600"), month=MonthToDate())
    error = caught.value
    assert error.message_values == {"minimum": "USD 1", "maximum": "USD 500"}
    assert render(error.message_key, "so", **error.message_values) == "Lacagtu waa inay u dhexeysaa USD 1 iyo USD 500."
    assert render(error.message_key, "sw", **error.message_values) == "Kiasi lazima kiwe kati ya USD 1 na USD 500."


def test_first_purchase_must_pay_more_than_the_fixed_charge():
    with pytest.raises(AmountOutOfRange, match="must be more than USD 2, the monthly fixed charge"):
        quote(tariff=SOMALI_FLAT, amount=D("2.00"), month=MonthToDate())
    # One cent more buys energy: 0.01 left, no debt or VAT at that size, 0.01 / 0.95 → 0.1 kWh.
    q = quote(tariff=SOMALI_FLAT, amount=D("2.01"), month=MonthToDate(debt_balance=D("5")))
    assert (q.energy_amount, q.units) == (D("0.01"), 1)
    # Later in the month the same $2 is an ordinary purchase.
    assert quote(tariff=SOMALI_FLAT, amount=D("2.00"), month=MonthToDate(fixed_charge_paid=True)).units > 0


def test_full_debt_recovery_refuses_amounts_that_only_repay_debt():
    full = TariffSpec(
        currency="USD",
        kind="flat",
        price_per_kwh=D("1"),
        debt_recovery_percent=D("100"),
        min_purchase=D("1"),
        max_purchase=D("500"),
    )
    with pytest.raises(AmountOutOfRange, match="more than USD 3 to buy electricity"):
        quote(tariff=full, amount=D("3"), month=MonthToDate(debt_balance=D("3")))
    q = quote(tariff=full, amount=D("5"), month=MonthToDate(debt_balance=D("3")))
    assert (q.debt_recovery, q.energy_amount, q.kwh) == (D("3.00"), D("2.00"), D("2.0"))


def test_float_amount_is_a_programming_error():
    with pytest.raises(TypeError):
        quote(tariff=SOMALI_FLAT, amount=10.0, month=MonthToDate())


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "flat", "price_per_kwh": None},
        {"kind": "flat", "price_per_kwh": D("0")},
        {"kind": "blocks", "blocks": ((D("30"), D("10")),)},  # no open last block
        {"kind": "blocks", "blocks": ((D("30"), D("10")), (D("20"), D("12")), (None, D("14")))},
        {"kind": "blocks", "blocks": ((None, D("10")), (D("20"), D("12")))},
        {"kind": "tiered", "price_per_kwh": D("1")},
        {"kind": "flat", "price_per_kwh": D("1"), "debt_recovery_percent": D("101")},
        {"kind": "flat", "price_per_kwh": D("1"), "currency": "EUR"},
        {"kind": "flat", "price_per_kwh": D("1"), "min_purchase": D("0")},
    ],
)
def test_misconfigured_tariffs_are_refused(fields):
    values = {"currency": "KES", "min_purchase": D("10"), "max_purchase": D("100"), **fields}
    with pytest.raises(ValueError):
        TariffSpec(**values)


def test_to_dict_is_json_safe_and_round_trips():
    q = quote(tariff=KENYA_BLOCKS, amount=D("500"), month=MonthToDate())
    data = json.loads(json.dumps(q.to_dict()))
    assert data["energy_amount"] == "412.07" and data["kwh"] == "32.8" and data["units"] == 328
    assert Quote.from_dict(data) == q


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("500", "KES", "KES 500"),
        ("500.00", "KES", "KES 500"),
        ("35000", "KES", "KES 35,000"),
        ("412.07", "KES", "KES 412.07"),
        ("10.5", "USD", "USD 10.50"),
        ("12000", "SLSH", "SLSH 12,000"),
    ],
)
def test_format_money(amount, currency, shown):
    assert format_money(D(amount), currency) == shown


@pytest.mark.parametrize("lang", LANGUAGES)
def test_breakdown_is_short_gsm7_in_every_language(lang):
    # The longest realistic line: every part present, at the top of the range.
    q = quote(tariff=KENYA_BLOCKS, amount=D("34999.99"), month=MonthToDate(debt_balance=D("1000")))
    line = q.breakdown(lang)
    assert is_gsm7(line) and len(line) <= 80, line


def test_customer_messages_exist_in_every_language_and_fit_an_sms():
    values = {
        "minimum": "SLSH 5,000,000",
        "maximum": "SLSH 5,000,000",
        "example": "SLSH 5,000,000",
        "kwh": "1,820,162.4",
    }
    for lang in LANGUAGES:
        for key in ("not_positive", "decimals", "range", "below_fixed", "below_charges", "too_many_kwh"):
            text = render(f"tariff.error.{key}", lang, **values)
            assert is_gsm7(text) and len(text) <= 160, (lang, key, text)


def test_amount_needed_for_kwh_matches_the_quote():
    # 50 kWh at the start of the month, and rounding up to 0.1 kWh means 49.9001 kWh is enough.
    # KES 829.41: fixed 22 → 807.41; VAT 807.41 x 16/116 = 111.3668… → 111.36; energy 696.05; block 1 366.90;
    # 329.15 / 16.54 = 19.90024… → 49.90024… → 50.0 kWh.
    # KES 829.40: VAT 111.3655… → 111.36; energy 696.04; 329.14 / 16.54 = 19.89964… → 49.89964… → 49.9 kWh.
    month = MonthToDate()
    needed = amount_needed_for_kwh(tariff=KENYA_BLOCKS, kwh=D("50"), month=month)
    assert needed == D("829.41")
    assert quote(tariff=KENYA_BLOCKS, amount=needed, month=month).kwh == D("50.0")
    assert quote(tariff=KENYA_BLOCKS, amount=needed - D("0.01"), month=month).kwh == D("49.9")


def test_amount_needed_for_more_kwh_than_the_maximum_buys_is_refused():
    with pytest.raises(AmountOutOfRange, match="most you can buy at once is USD 500"):
        amount_needed_for_kwh(tariff=SOMALI_FLAT, kwh=D("1000"), month=MonthToDate())


def test_tariff_maths_imports_no_django():
    code = "import sys, vending.tariffs; print(any(m.split('.')[0] == 'django' for m in sys.modules))"
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo)
    assert result.stdout.strip() == "False"
