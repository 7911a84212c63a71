"""Honest reports (issue 17): totals per currency, never summed across currencies; sold and free kWh apart;
numbers formatted for people; charts with a value axis, values and day labels; only completed refunds count
as refunded."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from backoffice.charts import bar_chart
from backoffice.reports import human, purchase_outcomes, sales_totals, units_totals
from tests.backoffice.conftest import PASSWORD
from tests.factories import (
    make_credit_token,
    make_flat_tariff,
    make_meter,
    make_purchase,
    make_supply_group,
    make_utility,
)

pytestmark = pytest.mark.django_db


def _kes_and_usd_sales():
    kes_meter = make_meter()
    somalia = make_utility("SO", "USD")
    usd_meter = make_meter(supply_group=make_supply_group(somalia), tariff=make_flat_tariff(somalia, price="0.5"))
    make_purchase(kes_meter, amount="1000", state="delivered")
    make_purchase(kes_meter, amount="750", state="delivered")
    make_purchase(usd_meter, amount="50", state="delivered")
    make_purchase(kes_meter, amount="300", state="refund_pending")
    make_purchase(kes_meter, amount="200", state="refunded")
    make_credit_token(kes_meter, units="88.2")
    make_credit_token(kes_meter, units="12.0", kind="free")
    return kes_meter, usd_meter


def _window():
    return timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)


def test_sales_totals_are_per_currency_and_never_summed():
    _kes_and_usd_sales()
    start, end = _window()
    assert sales_totals(start=start, end=end).rows == [("KES", 2, Decimal("1750")), ("USD", 1, Decimal("50"))]


def test_only_completed_refunds_count_as_refunded():
    _kes_and_usd_sales()
    rows = {(r[0], r[1]): (r[2], r[3]) for r in purchase_outcomes(start=_window()[0], end=_window()[1]).rows}
    assert rows["refunded", "KES"] == (1, Decimal("200"))
    assert rows["refund in progress", "KES"] == (1, Decimal("300"))
    assert rows["sold", "USD"] == (1, Decimal("50")) and rows["sold", "KES"] == (2, Decimal("1750"))


def test_sold_and_free_kwh_are_apart():
    _kes_and_usd_sales()
    start, end = _window()
    assert units_totals(start=start, end=end).rows == [("sold", 1, Decimal("88.2")), ("free", 1, Decimal("12.0"))]


def test_numbers_are_formatted_for_people():
    assert human(Decimal("88.2000000000000"), "kwh") == "88.2"
    assert human(Decimal("1750"), "amount") == "1,750.00"
    assert human(12345) == "12,345"


def test_a_chart_has_a_value_axis_values_and_a_label_for_every_day():
    chart = bar_chart("Sales per day (KES)", [("14 Jan", 0.0), ("15 Jan", 1750.0), ("16 Jan", 400.0)], unit="KES")
    assert [t.text for t in chart.ticks] == ["0", "500", "1,000", "1,500", "2,000"]
    assert [b.value for b in chart.bars] == ["", "1,750", "400"]
    assert [b.label for b in chart.bars if b.label_shown] == ["14 Jan", "15 Jan", "16 Jan"]
    month = bar_chart("kWh", [(f"{d:02d} Jan", 1.0) for d in range(1, 32)], unit="kWh", places=1)
    shown = [b.label for b in month.bars if b.label_shown]
    assert 10 <= len(shown) <= 17 and shown[0] == "01 Jan" and shown[-1] == "31 Jan"


def test_the_dashboard_shows_kes_and_usd_totals_apart(client, finance):
    _kes_and_usd_sales()
    client.login(username=finance.username, password=PASSWORD)
    page = client.get(reverse("admin:backoffice_dashboard_changelist")).content.decode()
    assert "Sales per day (KES)" in page and "Sales per day (USD)" in page and "all currencies" not in page
    totals = page[page.index('id="table-totals"') :]
    totals = totals[: totals.index("</table>")]
    assert "<td>KES</td><td>2</td><td>1,750.00</td>" in totals.replace("\n", "")
    assert "<td>USD</td><td>1</td><td>50.00</td>" in totals.replace("\n", "")
    assert "1,800" not in page  # KES and USD are never added up
    assert "88.2000" not in page and "88.2" in page
