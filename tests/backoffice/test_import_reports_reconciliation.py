"""CSV meter import, reports, and provider statement reconciliation (pure matching and the service)."""

from datetime import datetime
from decimal import Decimal

import pytest

from backoffice import reconciliation as rec
from backoffice.models import ReconciliationLine, ReconciliationResolution
from backoffice.reports import bars, purchase_outcomes, sales_per_day
from backoffice.services.meter_import import meters_import_csv
from backoffice.services.reconcile import mismatch_resolve, statement_upload
from tests.factories import make_drn, make_flat_tariff, make_meter, make_payment, make_purchase, make_supply_group
from vending.exceptions import PermissionDenied
from vending.models import AuditEvent, Meter, Payment

MPESA_HEADER = ",".join(f'"{c}"' for c in rec.MPESA_COLUMNS)


def mpesa_statement(rows: list[tuple[str, str, str, str]]) -> str:
    """Title rows, then the table, as the M-Pesa org portal exports it: (receipt, time, paid in, account)."""
    lines = ['"Organization Name","KORONTO LTD"', '"Time Period","From 2026-01-15 To 2026-01-15"', "", MPESA_HEADER]
    for receipt, when, paid_in, account in rows:
        lines.append(
            f'"{receipt}","{when}","{when}","Pay Bill from 2547****111","Completed","{paid_in}","",'
            f'"1,000.00","{when}","Pay Bill Online","254711000111 - J Doe","","{account}"'
        )
    lines.append(
        '"SFX0000001","2026-01-15 11:00:00","2026-01-15 11:00:00","Charge","Completed","","10.00",'
        '"990.00","","Business Pay Bill Charge","","",""'
    )
    return "\n".join(lines)


def waafipay_export(rows: list[tuple[str, str, str, str, str]]) -> str:
    head = ",".join(rec.WAAFIPAY_COLUMNS)
    body = [
        f"{tid},{ref},{when},252611****111,{amount},USD,{status},MWALLET_ACCOUNT,Electricity"
        for tid, ref, when, amount, status in rows
    ]
    return "\n".join([head, *body])


def test_mpesa_parser_skips_title_rows_and_charges():
    lines = rec.parse_mpesa_statement(mpesa_statement([("SFX1", "2026-01-15 10:05:00", "1,500.00", "K0001")]))
    assert lines == [rec.StatementLine("SFX1", "K0001", Decimal("1500.00"), datetime(2026, 1, 15, 10, 5))]


def test_waafipay_parser_keeps_approved_rows_only():
    text = waafipay_export(
        [
            ("111", "K1", "2026-01-15 10:00:00", "10.00", "Approved"),
            ("112", "K2", "2026-01-15 10:01:00", "5.00", "Failed"),
        ]
    )
    assert [line.their_reference for line in rec.parse_waafipay_export(text)] == ["111"]


def test_a_file_without_the_header_is_refused():
    with pytest.raises(rec.StatementError, match=r"Receipt No\."):
        rec.parse_mpesa_statement("a,b,c\n1,2,3")


def test_matching_finds_each_kind_of_outcome():
    line = lambda ref, acc, amount: rec.StatementLine(ref, acc, Decimal(amount), None)  # noqa: E731
    ours = [
        rec.OurPayment(1, "R1", ("P1",), Decimal("100"), True),
        rec.OurPayment(2, "R2", ("P2",), Decimal("100"), True),
        rec.OurPayment(3, "", ("P3",), Decimal("50"), False),
        rec.OurPayment(4, "R4", ("P4",), Decimal("70"), True),
    ]
    lines = [line("R1", "P1", "100"), line("R2", "P2", "90"), line("R3", "P3", "50"), line("R9", "", "20")]
    outcomes = [
        (m.outcome, m.line.their_reference if m.line else None, m.ours.payment_id if m.ours else None)
        for m in rec.match(lines, ours)
    ]
    assert outcomes == [
        (rec.MATCHED, "R1", 1),
        (rec.AMOUNT_DIFFERS, "R2", 2),
        (rec.MISSING_OURS, "R3", 3),  # they have it paid, we never confirmed it: "I paid and got nothing"
        (rec.MISSING_OURS, "R9", None),
        (rec.MISSING_THEIRS, None, 4),
    ]


@pytest.mark.django_db
def test_statement_upload_stores_outcomes_and_a_mismatch_is_resolved_once(finance, support):
    meter = make_meter()
    paid = make_purchase(meter, amount="1500", state="delivered")
    make_payment(paid, provider="daraja", reference="ws_CO_1")
    Payment.objects.filter(purchase=paid).update(state="confirmed", receipt="SFX1", amount_confirmed=Decimal("1500"))
    unpaid = make_purchase(meter, amount="200", state="payment_failed")
    make_payment(unpaid, provider="daraja", reference="ws_CO_2")
    text = mpesa_statement(
        [
            ("SFX1", "2026-01-15 10:05:00", "1,500.00", paid.reference),
            ("SFX2", "2026-01-15 10:06:00", "200.00", unpaid.reference),
        ]
    )

    with pytest.raises(PermissionDenied):
        statement_upload(actor=support, source="mpesa", text=text, file_name="jan15.csv")
    statement = statement_upload(actor=finance, source="mpesa", text=text, file_name="jan15.csv")

    outcomes = dict(statement.lines.values_list("their_reference", "outcome"))
    assert outcomes == {"SFX1": "matched", "SFX2": "missing_ours"}
    line = statement.lines.get(their_reference="SFX2")
    assert line.payment.purchase == unpaid
    mismatch_resolve(actor=finance, line=line, action="flag_payment", reason="customer paid, push callback lost")
    assert Payment.objects.get(purchase=unpaid).flagged
    assert ReconciliationResolution.objects.get(line=line).resolved_by == finance
    with pytest.raises(Exception, match="already resolved"):
        mismatch_resolve(actor=finance, line=line, action="acknowledge", reason="again")
    assert AuditEvent.objects.filter(action="reconciliation.mismatch_resolved", purchase=unpaid).count() == 1
    assert ReconciliationLine.objects.filter(statement=statement).count() == 2


@pytest.mark.django_db
def test_meter_import_reports_every_row(custodian):
    group = make_supply_group()
    tariff = make_flat_tariff(group.utility)
    existing = make_meter(supply_group=group, tariff=tariff)
    good = make_drn()
    text = "\n".join(
        [
            "drn,label_name,sgc,key_revision,tariff,tariff_index,base_date",
            f"{good},Shop 1,{group.sgc},1,{tariff.name},3,1993",
            f"{existing.drn},Again,{group.sgc},1,{tariff.name},,",
            f"12345678900,Bad check digit,{group.sgc},1,{tariff.name},,",
            f"{make_drn()},No group,999999,1,{tariff.name},,",
        ]
    )
    result = meters_import_csv(actor=custodian, text=text, file_name="meters.csv")
    assert [r["outcome"] for r in result.report] == ["created", "exists", "error", "error"]
    assert [r["row"] for r in result.report] == [2, 3, 4, 5]
    meter = Meter.objects.get(drn=good)
    assert (meter.tariff_index, meter.base_date, meter.supply_group) == (3, 1993, group)
    assert (result.created_count, result.existing_count, result.error_count) == (1, 1, 2)


@pytest.mark.django_db
def test_meter_import_needs_the_role(support):
    with pytest.raises(PermissionDenied):
        meters_import_csv(actor=support, text="drn\n", file_name="x.csv")


@pytest.mark.django_db
def test_reports_count_sales_and_outcomes():
    from datetime import timedelta

    from django.utils import timezone

    meter = make_meter()
    for amount, state, wallet in [
        ("100", "delivered", "mpesa"),
        ("50", "vended", "mpesa"),
        ("30", "payment_failed", "mpesa"),
        ("20", "refunded", "mpesa"),
    ]:
        make_purchase(meter, amount=amount, state=state, wallet=wallet)
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    sales = sales_per_day(start=start, end=end)
    assert [(r[2], r[4], r[5]) for r in sales.rows] == [("mpesa", 2, Decimal("150"))]
    outcomes = {(r[0], r[1]): (r[2], r[3]) for r in purchase_outcomes(start=start, end=end).rows}
    assert outcomes["failed", "KES"] == (1, Decimal("30")) and outcomes["refunded", "KES"] == (1, Decimal("20"))


def test_bars_scale_to_the_largest_value():
    drawn = bars([("a", 10.0), ("b", 5.0)], width=100, height=50)
    assert [(b.height, b.y) for b in drawn] == [(50, 0), (25, 25)]
