"""The sales dashboard in headless Chromium with KES and USD sales: separate totals and charts per currency.
docs/dashboard.png is taken here, only when asked: `KORONTO_SCREENSHOT=1 make test`."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.backoffice.conftest import make_staff
from tests.backoffice.test_browser import browser, login  # noqa: F401 - the Chromium fixture
from tests.factories import (
    make_credit_token,
    make_flat_tariff,
    make_meter,
    make_purchase,
    make_supply_group,
    make_utility,
)
from vending.models import Purchase, Token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


def _two_weeks_of_sales():
    kes_meter = make_meter()
    somalia = make_utility("SO", "USD")
    usd_meter = make_meter(supply_group=make_supply_group(somalia), tariff=make_flat_tariff(somalia, price="0.5"))
    now = timezone.now()
    for day in range(14):
        at = now - timedelta(days=day, hours=1)
        for meter, amount in ((kes_meter, 250 + 90 * (day % 5)), (usd_meter, 5 + 3 * (day % 4))):
            purchase = make_purchase(meter, amount=str(amount), state="delivered")
            Purchase.objects.filter(pk=purchase.pk).update(created_at=at)
            token = make_credit_token(
                meter, units=str(amount / 20 if meter is kes_meter else amount * 2), purchase=purchase, created_at=at
            )
            assert token.kind == Token.Kind.CREDIT
        if day % 6 == 2:
            make_credit_token(kes_meter, units="5.0", kind="free", created_at=at)


def test_the_dashboard_shows_each_currency_apart_with_readable_charts(browser, live_server):  # noqa: F811
    _two_weeks_of_sales()
    finance = make_staff("Finance")
    login(browser, live_server, finance.username)
    browser.set_viewport_size({"width": 1100, "height": 900})
    browser.goto(f"{live_server.url}/admin/backoffice/dashboard/")
    browser.wait_for_selector("#table-totals")
    totals = browser.inner_text("#table-totals")
    assert "KES" in totals and "USD" in totals
    titles = browser.eval_on_selector_all("svg.chart", "els => els.map(e => e.getAttribute('aria-label'))")
    assert titles == ["Sales per day (KES)", "Sales per day (USD)", "kWh sold per day", "kWh given free per day"]
    kes_chart = browser.query_selector("svg.chart")
    assert len(kes_chart.query_selector_all("text.day")) == 14  # every day labelled
    assert len(kes_chart.query_selector_all("g.tick")) >= 3  # a value axis
    assert len(kes_chart.query_selector_all("text.value")) == 14  # each bar's value
    shot = browser.screenshot(full_page=True)
    assert shot.startswith(b"\x89PNG")
    if os.environ.get("KORONTO_SCREENSHOT") == "1":
        SCREENSHOT.write_bytes(shot)
