"""Reconciliation (issue 17): a repeated statement is refused, mismatches show local time and a currency,
and Finance is offered only the resolutions its role may take (no refund)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from backoffice.models import ReconciliationStatement
from backoffice.services.reconcile import BadStatement, mismatch_resolve, resolve_actions_for, statement_upload
from tests.backoffice.conftest import PASSWORD
from tests.backoffice.test_import_reports_reconciliation import mpesa_statement
from tests.factories import make_meter, make_payment, make_purchase
from vending.exceptions import PermissionDenied
from vending.models import Payment

pytestmark = pytest.mark.django_db


def _statement():
    meter = make_meter()
    paid = make_purchase(meter, amount="1500", state="delivered")
    make_payment(paid, provider="daraja", reference="ws_CO_1")
    Payment.objects.filter(purchase=paid).update(state="confirmed", receipt="SFX1", amount_confirmed=Decimal("1500"))
    return mpesa_statement(
        [
            ("SFX1", "2026-01-15 10:05:00", "1,500.00", paid.reference),
            ("SFX9", "2026-01-15 10:06:00", "2,200.00", "NOSUCHREF"),
        ]
    )


def test_the_same_statement_twice_is_refused(finance):
    text = _statement()
    statement_upload(actor=finance, source="mpesa", text=text, file_name="jan15.csv")
    with pytest.raises(BadStatement, match=r"uploaded before: the same file was uploaded as jan15\.csv"):
        statement_upload(
            actor=finance, source="mpesa", text=text.replace("\n", "\r\n") + "\n\n", file_name="jan15 (1).csv"
        )
    # The same lines under another title row are the same statement too.
    with pytest.raises(BadStatement, match=r"every line of it is already in statement jan15\.csv"):
        statement_upload(actor=finance, source="mpesa", text="Re-exported\n" + text, file_name="copy.csv")
    assert ReconciliationStatement.objects.count() == 1


def test_finance_is_not_offered_a_refund_and_cannot_post_one(finance, operator):
    text = _statement().replace('"1,500.00"', '"1,400.00"')  # ours says 1,500: the amount differs
    statement = statement_upload(actor=finance, source="mpesa", text=text, file_name="s.csv")
    assert "refund" not in dict(resolve_actions_for(finance))
    assert "refund" in dict(resolve_actions_for(operator))
    line = statement.lines.get(their_reference="SFX1")
    assert line.outcome == "amount_differs" and line.payment_id
    with pytest.raises(PermissionDenied):
        mismatch_resolve(actor=finance, line=line, action="refund", reason="try it")
    assert not type(line).objects.filter(pk=line.pk, resolution__isnull=False).exists()


def test_mismatches_show_local_time_and_the_currency(client, finance):
    statement = statement_upload(actor=finance, source="mpesa", text=_statement(), file_name="s.csv")
    line = statement.lines.get(their_reference="SFX9")
    line.occurred_at = datetime(2026, 1, 15, 7, 6, tzinfo=UTC)
    line.save()
    client.login(username=finance.username, password=PASSWORD)
    page = client.get(reverse("admin:backoffice_reconciliationstatement_change", args=[statement.pk])).content.decode()
    table = page[page.index('id="mismatches"') :]
    assert "<th>currency</th>" in table and "<td>KES</td>" in table
    assert "2026-01-15 10:06" in table and "07:06" not in table  # Nairobi time, not UTC
    assert "2,200.00" in table
    resolve = client.get(reverse("admin:backoffice_reconciliationline_resolve", args=[line.pk])).content.decode()
    assert 'value="acknowledge"' in resolve and 'value="refund"' not in resolve
