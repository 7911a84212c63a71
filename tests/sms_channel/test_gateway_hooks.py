"""/hooks/sms/<gateway>/<secret>/ (inbound) and .../delivery/ (reports) for africastalking, kannel and hormuud:
each gateway's own request shape reaches the same SMS command channel; bad requests never give a 5xx."""

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.sms_channel.conftest import GURI, KE_PHONE, SO_PHONE
from vending.models import ProviderCallback, SmsMessage
from vending.services.sms import delivery_report_process
from vending.states import SmsState


def url(gateway: str, delivery: bool = False, secret: str | None = None) -> str:
    tail = "delivery/" if delivery else ""
    return f"/hooks/sms/{gateway}/{secret or django_settings.WEBHOOK_SECRET}/{tail}"


@pytest.fixture
def hooks(client, django_capture_on_commit_callbacks, eager_tasks, world):
    class Hooks:
        def get(self, path: str, params: dict[str, str]):
            with django_capture_on_commit_callbacks(execute=True):
                return client.get(path, params)

        def post_json(self, path: str, body: object):
            with django_capture_on_commit_callbacks(execute=True):
                return client.post(path, data=json.dumps(body), content_type="application/json")

        def post_form(self, path: str, form: dict[str, str]):
            with django_capture_on_commit_callbacks(execute=True):
                return client.post(path, data=urlencode(form), content_type="application/x-www-form-urlencoded")

    return Hooks()


def _reply_to(phone: str) -> str:
    rows = SmsMessage.objects.filter(direction="out", phone=phone).order_by("pk")
    return "\n".join(rows.values_list("text", flat=True))


def test_kannel_get_url_request_reaches_the_command_channel(hooks):
    response = hooks.get(
        url("kannel"),
        {
            "from": SO_PHONE,
            "to": "44135",
            "text": "MITIRO",
            "id": "6a1f0c3e-1111-2222-3333-444455556666",
            "smsc": "fake",
            "time": "1796134008",
        },
    )
    assert response.status_code == 200
    inbound = SmsMessage.objects.get(direction="in")
    assert (inbound.gateway, inbound.provider, inbound.phone, inbound.status) == (
        "kannel",
        "kannel",
        SO_PHONE,
        SmsState.PROCESSED,
    )
    assert GURI in _reply_to(SO_PHONE)  # the Somali customer's saved meter, listed in the reply


def test_hormuud_json_push_reaches_the_command_channel(hooks):
    body = {"MessageID": "HMO00000001", "Mobile": SO_PHONE.lstrip("+"), "Message": "MITIRO", "ShortCode": "44135"}
    assert hooks.post_json(url("hormuud"), body).status_code == 200
    assert hooks.post_json(url("hormuud"), body).status_code == 200  # Hormuud repeating itself
    inbound = SmsMessage.objects.get(direction="in")
    assert (inbound.gateway, inbound.phone, inbound.provider_message_id) == ("hormuud", SO_PHONE, "HMO00000001")
    assert SmsMessage.objects.filter(direction="out", phone=SO_PHONE).count() == 1


def test_africastalking_on_the_new_path_is_the_same_as_the_old_alias(hooks):
    form = {"from": KE_PHONE, "to": "44135", "text": "HELP", "date": "2026-03-04 10:30:00", "id": "ATXid_new"}
    assert hooks.post_form(url("africastalking"), form).status_code == 200
    assert SmsMessage.objects.get(direction="in").gateway == "africastalking"
    assert _reply_to(KE_PHONE).startswith("Koronto SMS: BUY meter amount")


@pytest.mark.parametrize("delivery", [False, True])
def test_an_unknown_gateway_is_404(hooks, delivery):
    assert hooks.get(url("nosuchgateway", delivery), {"from": SO_PHONE, "text": "HELP"}).status_code == 404
    assert hooks.get(url("kannel", delivery, secret="wrong"), {"from": SO_PHONE, "text": "HELP"}).status_code == 404
    assert not SmsMessage.objects.filter(direction="in").exists() and not ProviderCallback.objects.exists()


@pytest.mark.parametrize("gateway", ["africastalking", "kannel", "hormuud"])
def test_a_request_without_sender_or_text_is_400(hooks, gateway):
    assert hooks.get(url(gateway), {"text": "HELP"}).status_code == 400
    assert hooks.post_json(url(gateway), {"from": SO_PHONE}).status_code == 400
    assert not SmsMessage.objects.filter(direction="in").exists()


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gateway=st.sampled_from(["africastalking", "kannel", "hormuud"]),
    delivery=st.booleans(),
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]
    ),
)
def test_any_body_for_a_known_gateway_never_gives_a_5xx(client, world, gateway, delivery, body, content_type):
    response = client.post(url(gateway, delivery), data=body, content_type=content_type)
    assert response.status_code in (200, 400)


def _outbound(gateway: str, message_id: str) -> SmsMessage:
    return SmsMessage.objects.create(
        direction="out",
        phone=SO_PHONE,
        text="x",
        gateway=gateway,
        provider=gateway,
        provider_message_id=message_id,
        status=SmsState.SENT,
    )


def test_kannel_delivery_reports_by_get_move_the_row(hooks):
    row = _outbound("kannel", "kannel-0123456789abcdef")
    for kind in ("8", "1"):
        params = {"id": row.provider_message_id, "type": kind, "answer": "ACK/", "at": "1796134018"}
        assert hooks.get(url("kannel", delivery=True), params).status_code == 200
        row.refresh_from_db()
        assert row.status == {"8": SmsState.SUBMITTED, "1": SmsState.DELIVERED}[kind]


def test_kannel_failure_report_keeps_the_smsc_answer(hooks):
    row = _outbound("kannel", "kannel-feedfacefeedface")
    hooks.get(url("kannel", delivery=True), {"id": row.provider_message_id, "type": "16", "answer": "NACK/0x0b"})
    row.refresh_from_db()
    assert (row.status, row.failure_reason) == (SmsState.REJECTED, "NACK/0x0b")


def test_hormuud_delivery_report_by_json_moves_the_row(hooks):
    row = _outbound("hormuud", "hormuud-000000000042")
    response = hooks.post_json(
        url("hormuud", delivery=True), {"MessageID": "000000000042", "Mobile": "252611000111", "Status": "Delivered"}
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.status == SmsState.DELIVERED


@pytest.mark.parametrize(
    ("gateway", "params"),
    [
        ("kannel", {"id": "kannel-abc", "type": "3"}),
        ("kannel", {"type": "1"}),
        ("hormuud", {"MessageID": "1", "Status": "Maybe"}),
        ("hormuud", {"Status": "Delivered"}),
    ],
)
def test_an_unreadable_report_is_flagged_not_an_error(hooks, gateway, params):
    assert hooks.get(url(gateway, delivery=True), params).status_code == 200
    callback = ProviderCallback.objects.get(provider=gateway)
    delivery_report_process(callback_id=callback.pk)
    callback.refresh_from_db()
    assert callback.flagged and callback.processed_at is not None
