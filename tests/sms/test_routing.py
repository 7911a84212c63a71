"""The route table: which gateway carries an SMS, failover along the route, and the audit of every try.

The gateways are the real adapters over HTTP against their loopback fakes (Hormuud, Africa's Talking), and
a real Kannel where the test says so."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from fakes.africastalking import FAKE_AT_API_KEY, FAKE_AT_USERNAME, FakeAfricasTalking
from fakes.hormuud import FAKE_HORMUUD_PASSWORD, FAKE_HORMUUD_USERNAME, FakeHormuud
from fakes.kannel_box import KannelBox, missing_binaries
from vending.models import SmsAttempt, SmsMessage
from vending.services.sms import sms_deliver, sms_send
from vending.sms import SmsRejected, SmsUnavailable
from vending.sms.base import AttemptOutcome
from vending.sms.hormuud import HormuudConfig, HormuudSender
from vending.sms.routing import RouteConfigError, Router, destination_of, parse_prefixes, parse_routes
from vending.states import SmsState

HORMUUD_PHONE = "+252611000111"
HORMUUD_77 = "+252771234567"
TELESOM_PHONE = "+252631234567"
KENYAN_PHONE = "+254711000111"
ROUTES = "SO/hormuud=hormuud:KORONTO,africastalking:KORONTO; KE=africastalking; *=africastalking"


@pytest.fixture
def hormuud() -> Iterator[FakeHormuud]:
    with FakeHormuud() as server:
        yield server


@pytest.fixture
def at() -> Iterator[FakeAfricasTalking]:
    with FakeAfricasTalking() as server:
        yield server


@pytest.fixture
def routed(settings, hormuud, at, db, django_capture_on_commit_callbacks, eager):
    """Settings for a Somali deployment with Hormuud first and Africa's Talking for the rest."""
    settings.SMS_ROUTES = ROUTES
    settings.HORMUUD_SMS_BASE_URL, settings.HORMUUD_SMS_USERNAME = hormuud.base_url, FAKE_HORMUUD_USERNAME
    settings.HORMUUD_SMS_PASSWORD = FAKE_HORMUUD_PASSWORD
    settings.AT_API_BASE_URL, settings.AT_USERNAME, settings.AT_API_KEY = at.base_url, FAKE_AT_USERNAME, FAKE_AT_API_KEY

    def send(phone: str, text: str = "Token 1234 5678 9012 3456 7890") -> SmsMessage:
        with django_capture_on_commit_callbacks(execute=True):
            [row] = sms_send(phone=phone, text=text)
        row.refresh_from_db()
        return row

    return send


def attempts(row: SmsMessage) -> list[tuple[str, str, str]]:
    return list(SmsAttempt.objects.filter(sms=row).order_by("pk").values_list("route", "gateway", "outcome"))


# -- operators and the table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        (HORMUUD_PHONE, ("SO", "hormuud")),
        (HORMUUD_77, ("SO", "hormuud")),
        (TELESOM_PHONE, ("SO", "telesom")),
        ("+252621234567", ("SO", "somtel")),
        ("+252651234567", ("SO", "somtel")),
        ("+252901234567", ("SO", "golis")),
        ("+252681234567", ("SO", "somnet")),
        (KENYAN_PHONE, ("KE", "safaricom")),
    ],
)
def test_operator_from_the_number(phone, expected):
    assert destination_of(phone, {}) == expected


def test_configured_prefixes_win_over_the_built_in_table():
    prefixes = parse_prefixes("+252631=NewNet, +25263=Telesom")
    assert destination_of("+252631234567", prefixes) == ("SO", "newnet")
    assert destination_of("+252639999999", prefixes) == ("SO", "telesom")


@pytest.mark.parametrize("bad", ["SO", "SO=nosuchgateway", "Somalia=kannel", "=kannel", "+25x=kannel"])
def test_an_unreadable_route_table_names_the_bad_part(bad):
    with pytest.raises(RouteConfigError):
        parse_routes(bad, known=("kannel", "hormuud"))


def test_rules_keep_sender_ids_and_the_fallback_order():
    [rule, *_] = parse_routes(ROUTES, known=("hormuud", "africastalking"))
    assert rule.destination == "SO/hormuud"
    assert [(h.gateway, h.sender_id) for h in rule.hops] == [("hormuud", "KORONTO"), ("africastalking", "KORONTO")]


# -- Done when 2: per-operator routing, failover once, every attempt audited ---------------------------------


def test_a_hormuud_number_goes_out_through_the_hormuud_route(routed, hormuud, at):
    row = routed(HORMUUD_PHONE)
    assert (row.status, row.gateway, row.route, row.provider) == (
        SmsState.SENT,
        "hormuud",
        "SO/hormuud>hormuud",
        "hormuud",
    )
    assert [(m["mobile"], m["senderid"]) for m in hormuud.messages] == [("252611000111", "KORONTO")]
    assert row.provider_message_id == f"hormuud-{hormuud.messages[0]['id']}"
    assert at.messages == []
    assert attempts(row) == [("SO/hormuud>hormuud", "hormuud", "accepted")]


def test_a_kenyan_number_goes_out_through_africas_talking(routed, hormuud, at):
    row = routed(KENYAN_PHONE)
    assert (row.status, row.gateway, row.route) == (SmsState.SENT, "africastalking", "KE>africastalking")
    assert [m["to"] for m in at.messages] == [KENYAN_PHONE]
    assert hormuud.messages == []
    assert attempts(row) == [("KE>africastalking", "africastalking", "accepted")]


def test_with_the_first_route_down_the_fallback_carries_it_exactly_once(routed, hormuud, at):
    hormuud.stop()  # connection refused: Hormuud never saw the message
    row = routed(HORMUUD_PHONE)
    assert (row.status, row.gateway, row.route) == (SmsState.SENT, "africastalking", "SO/hormuud>africastalking")
    assert [(m["to"], m["from"]) for m in at.messages] == [(HORMUUD_PHONE, "KORONTO")]
    assert attempts(row) == [
        ("SO/hormuud>hormuud", "hormuud", "unavailable"),
        ("SO/hormuud>africastalking", "africastalking", "accepted"),
    ]
    # Sending the row again (a redelivered task, the sweep) does not text the customer a second time.
    sms_deliver(sms_id=row.pk)
    assert len(at.messages) == 1 and SmsAttempt.objects.filter(sms=row).count() == 2


def test_a_refusal_fails_over_too(routed, hormuud, at):
    hormuud.refuse(HORMUUD_PHONE, "201", "Invalid mobile number")
    row = routed(HORMUUD_PHONE)
    assert row.gateway == "africastalking" and len(at.messages) == 1 and hormuud.messages == []
    assert attempts(row)[0] == ("SO/hormuud>hormuud", "hormuud", "refused")
    assert SmsAttempt.objects.filter(sms=row).first().detail == "Invalid mobile number"


def test_every_gateway_down_leaves_the_row_queued_for_a_retry_and_audits_each_try(routed, hormuud, at, settings):
    hormuud.stop()
    at.http_error = 500
    row = SmsMessage.objects.create(direction="out", phone=HORMUUD_PHONE, text="hello", status=SmsState.QUEUED)
    with pytest.raises(SmsUnavailable):
        sms_deliver(sms_id=row.pk)
    row.refresh_from_db()
    assert row.status == SmsState.QUEUED
    assert [a[2] for a in attempts(row)] == ["unavailable", "unavailable"]


def test_a_gateway_that_may_have_taken_the_message_is_not_failed_over(hormuud, at):
    """A read timeout: Hormuud may be sending it already, so trying Africa's Talking could text twice."""
    slow = HormuudSender(
        HormuudConfig(
            base_url=hormuud.base_url,
            username=FAKE_HORMUUD_USERNAME,
            password=FAKE_HORMUUD_PASSWORD,
            timeout=(1.0, 0.3),
        )
    )
    slow._token.get()  # a token first, so the timeout hits the send itself
    hormuud.send_delay = 1.0
    calls: list[str] = []

    def senders(name: str):
        calls.append(name)
        if name == "hormuud":
            return slow
        raise AssertionError("the fallback must not be tried")

    router = Router(parse_routes("SO=hormuud,africastalking", known=("hormuud", "africastalking")), senders)
    with pytest.raises(SmsUnavailable) as caught:
        router.send(HORMUUD_PHONE, "hello")
    assert caught.value.maybe_sent and calls == ["hormuud"]
    assert [a.outcome for a in caught.value.attempts] == [AttemptOutcome.UNAVAILABLE]


def test_no_matching_rule_is_a_permanent_refusal():
    router = Router(parse_routes("KE=africastalking", known=("africastalking",)), lambda name: None)  # type: ignore
    with pytest.raises(SmsRejected):
        router.send(HORMUUD_PHONE, "hello")


@pytest.fixture
def kannel(tmp_path):
    missing = missing_binaries()
    if missing:
        if os.environ.get("KORONTO_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Kannel is not installed ({', '.join(missing)})")
        pytest.skip("Kannel is not installed")
    box = KannelBox(mo_url="http://127.0.0.1:9/unused", workdir=tmp_path / "kannel")
    box.workdir.mkdir()
    with box:
        yield box


def test_hormuud_down_fails_over_to_a_real_kannel_once(routed, hormuud, kannel, settings):
    settings.SMS_ROUTES = "SO/hormuud=hormuud:KORONTO,kannel:KORONTO; *=africastalking"
    for name, value in kannel.settings().items():
        setattr(settings, name, value)
    hormuud.http_error = 503
    row = routed(HORMUUD_PHONE, "Koodh 1234 5678 9012 3456 7890")
    assert (row.gateway, row.route, row.status) == ("kannel", "SO/hormuud>kannel", SmsState.SENT)
    got = kannel.wait_for(lambda rs: len(rs) >= 1, 10)
    assert [(m.sender, m.to, m.text) for m in got] == [("KORONTO", HORMUUD_PHONE, "Koodh 1234 5678 9012 3456 7890")]
    assert attempts(row) == [
        ("SO/hormuud>hormuud", "hormuud", "unavailable"),
        ("SO/hormuud>kannel", "kannel", "accepted"),
    ]


def test_sms_outbox_json_names_the_gateway_that_carried_each_message(routed, hormuud):
    import json
    from io import StringIO

    from django.core.management import call_command

    hormuud_row, kenyan_row = routed(HORMUUD_PHONE), routed(KENYAN_PHONE)
    queued = SmsMessage.objects.create(direction="out", phone=KENYAN_PHONE, text="later", status=SmsState.QUEUED)
    out = StringIO()
    call_command("sms_outbox", "--json", stdout=out)
    records = {r["id"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert records[hormuud_row.pk]["gateway"] == "hormuud"
    assert records[kenyan_row.pk]["gateway"] == "africastalking"
    assert records[queued.pk]["gateway"] is None


def test_the_dashboard_shows_per_route_counts_failures_and_last_success(routed, hormuud, client, django_user_model):
    hormuud.stop()
    routed(HORMUUD_PHONE)  # Hormuud down: one failed try, Africa's Talking carries it
    routed(KENYAN_PHONE)
    staff = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-for-tests-only")
    client.force_login(staff)
    page = client.get("/admin/backoffice/dashboard/?days=1")
    assert page.status_code == 200
    table = page.content.decode().split('id="table-sms-routes"')[1].split("</table>")[0]
    rows = [[cell.strip() for cell in tr.split("<td>")[1:]] for tr in table.split("<tr>")[2:]]
    cells = {r[0].split("<")[0]: [c.split("<")[0] for c in r[1:]] for r in rows}
    assert cells["SO/hormuud&gt;hormuud"][:3] == ["hormuud", "0", "1"]
    assert cells["SO/hormuud&gt;hormuud"][3] == "never"
    assert cells["SO/hormuud&gt;africastalking"][:3] == ["africastalking", "1", "0"]
    assert cells["KE&gt;africastalking"][:3] == ["africastalking", "1", "0"]
    assert cells["KE&gt;africastalking"][3] != "never"


def test_the_system_check_names_a_bad_table_and_an_unconfigured_gateway(settings):
    from vending.sms.checks import sms_routes_check

    settings.SMS_ROUTES = "SO=kannel"
    settings.KANNEL_SENDSMS_URL = settings.KANNEL_USERNAME = settings.KANNEL_PASSWORD = ""
    assert [e.id for e in sms_routes_check()] == ["koronto.E151"]
    settings.SMS_ROUTES = "SO kannel"
    assert [e.id for e in sms_routes_check()] == ["koronto.E150"]
    settings.SMS_ROUTES = "SO=console; *=console"
    assert sms_routes_check() == []
