"""The AT sender through the real africastalking SDK against the loopback fake (docs/PROTOCOLS.md §2.2, 2.3)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
import requests

from fakes._base import CallbackReceiver
from fakes.africastalking import FAKE_AT_API_KEY, FAKE_AT_USERNAME, FakeAfricasTalking
from vending.sms import DeliveryStatus, InvalidDeliveryReport, SmsRejected, SmsUnavailable, get_sender
from vending.sms.africastalking import AfricasTalkingConfig, AfricasTalkingSender
from vending.sms.console import ConsoleSender
from vending.sms.masking import mask_tokens

TO = "+254711000111"


@pytest.fixture
def fake_at() -> Iterator[FakeAfricasTalking]:
    with FakeAfricasTalking() as server:
        yield server


def sender_for(fake: FakeAfricasTalking, **overrides: object) -> AfricasTalkingSender:
    values: dict[str, object] = {
        "username": FAKE_AT_USERNAME,
        "api_key": FAKE_AT_API_KEY,
        "base_url": fake.base_url,
        "sender_id": "KORONTO",
        "enqueue": True,
    }
    values.update(overrides)
    return AfricasTalkingSender(AfricasTalkingConfig(**values))  # type: ignore[arg-type]


def test_send_through_the_sdk_returns_the_message_id(fake_at):
    result = sender_for(fake_at).send(TO, "Token 1234 5678 9012 3456 7890")
    assert result.accepted and result.status_code == 101 and result.status == "Success"
    assert result.provider_message_id == fake_at.messages[0]["id"]
    assert result.cost == "KES 0.8000"


def test_send_form_carries_sender_id_enqueue_and_bulk_mode(fake_at):
    sender_for(fake_at).send(TO, "hello")
    request = fake_at.requests_snapshot()[-1]
    assert request["path"] == "/version1/messaging"
    assert request["headers"]["apiKey"] == FAKE_AT_API_KEY
    assert request["headers"]["Accept"] == "application/json"
    body = request["body"]
    assert body["username"] == FAKE_AT_USERNAME and body["to"] == TO and body["message"] == "hello"
    assert body["from"] == "KORONTO" and body["enqueue"] == "1" and body["bulkSMSMode"] == "1"


def test_content_type_quirk_str_reply_is_parsed(fake_at):
    fake_at.content_type = "application/json; charset=utf-8"  # the SDK now hands back a str
    result = sender_for(fake_at).send(TO, "hello")
    assert result.accepted and result.provider_message_id.startswith("ATXid_")


def test_per_recipient_failure_inside_a_200_is_not_accepted(fake_at):
    fake_at.set_recipient(TO, 406)
    result = sender_for(fake_at).send(TO, "hello")
    assert not result.accepted and result.status == "UserInBlacklist" and not result.retryable


def test_insufficient_balance_is_retryable(fake_at):
    fake_at.set_recipient(TO, 405)
    result = sender_for(fake_at).send(TO, "hello")
    assert not result.accepted and result.retryable


def test_invalid_sender_id_gives_no_recipients_and_is_not_accepted(fake_at):
    fake_at.sender_ids = {"OTHER"}
    result = sender_for(fake_at).send(TO, "hello")
    assert not result.accepted and result.status == "InvalidSenderId"


def test_bad_api_key_is_permanent(fake_at):
    with pytest.raises(SmsRejected):
        sender_for(fake_at, api_key="wrong").send(TO, "hello")


def test_server_error_is_transient(fake_at):
    fake_at.http_error = 500
    with pytest.raises(SmsUnavailable):
        sender_for(fake_at).send(TO, "hello")


def test_connection_refused_is_transient():
    dead = FakeAfricasTalking()
    url = dead.base_url
    dead.server_close()
    with pytest.raises(SmsUnavailable):
        AfricasTalkingSender(AfricasTalkingConfig(username="u", api_key="k", base_url=url)).send(TO, "x")


def test_recipient_without_plus_is_refused_before_any_http(fake_at):
    with pytest.raises(SmsRejected):
        sender_for(fake_at).send("254711000111", "hello")
    assert fake_at.requests_snapshot() == []


def test_fake_answers_xml_without_accept_json(fake_at):
    reply = requests.post(
        fake_at.base_url + "/version1/messaging",
        headers={"apiKey": FAKE_AT_API_KEY},
        data={"username": FAKE_AT_USERNAME, "to": TO, "message": "x"},
        timeout=5,
    )
    assert reply.status_code == 201 and reply.text.startswith("<AfricasTalkingResponse>")


def test_fake_posts_delivery_reports_that_parse():
    with CallbackReceiver() as receiver, FakeAfricasTalking(dlr_url=receiver.base_url + "/sms/dlr/") as fake:
        fake.set_recipient(TO, 101, dlr_status="Failed", failure_reason="UserInBlackList")
        sender = sender_for(fake)
        result = sender.send(TO, "hello")
        ((_, body),) = receiver.wait_for(1)
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        report = sender.parse_delivery_report(form)
        assert report.provider_message_id == result.provider_message_id
        assert report.status is DeliveryStatus.FAILED and report.is_final and not report.delivered
        assert report.failure_reason == "UserInBlackList" and report.network_code == "63902"
        messages = requests.get(fake.base_url + "/_fake/messages", timeout=5).json()
        assert messages[0]["to"] == TO


def test_delivery_report_interim_and_final_statuses():
    sender = ConsoleSender()
    interim = sender.parse_delivery_report({"id": "ATXid_1", "status": "Buffered", "phoneNumber": TO})
    assert not interim.is_final
    final = sender.parse_delivery_report({"id": "ATXid_1", "status": "Success", "retryCount": "2"})
    assert final.delivered and final.retry_count == 2


@pytest.mark.parametrize("form", [{}, {"id": "x", "status": "Exploded"}, {"status": "Success"}])
def test_garbage_delivery_report_is_refused(form):
    with pytest.raises(InvalidDeliveryReport):
        ConsoleSender().parse_delivery_report(form)


def test_console_sender_never_logs_the_full_token(caplog):
    with caplog.at_level(logging.INFO):
        result = ConsoleSender().send(TO, "Token: 1234 5678 9012 3456 7890 Units 12.3")
    assert result.accepted and result.provider_message_id.startswith("console-")
    assert "1234 5678" not in caplog.text and "7890" in caplog.text


def test_mask_tokens_keeps_last_four_digits_only():
    assert mask_tokens("12345678901234567890") == "****************7890"
    assert mask_tokens("1234-5678-9012-3456-7890") == "****-****-****-****-7890"
    assert mask_tokens("meter 04123456789 ref 500") == "meter 04123456789 ref 500"


def test_get_sender_is_console_without_credentials_and_at_with_them(fake_at):
    assert isinstance(get_sender(SimpleNamespace(AT_USERNAME="", AT_API_KEY="")), ConsoleSender)
    sender = get_sender(
        SimpleNamespace(
            AT_USERNAME=FAKE_AT_USERNAME,
            AT_API_KEY=FAKE_AT_API_KEY,
            AT_API_BASE_URL=fake_at.base_url,
            AT_SENDER_ID="",
            AT_ENQUEUE=False,
        )
    )
    assert isinstance(sender, AfricasTalkingSender)
    assert sender.send(TO, "hi").accepted
    body = fake_at.requests_snapshot()[-1]["body"]
    assert "from" not in body and "enqueue" not in body


def test_sends_share_one_kept_alive_connection(fake_at):
    sender = sender_for(fake_at)
    assert sender.send(TO, "one").accepted
    first = sender._client._local.conn.sock  # type: ignore[union-attr]
    assert sender.send(TO, "two").accepted
    assert sender._client._local.conn.sock is first  # type: ignore[union-attr]
    assert [r["body"]["message"] for r in fake_at.requests_snapshot()] == ["one", "two"]


def test_a_proxy_for_the_at_url_is_honoured_through_the_sdk(fake_at, monkeypatch):
    # The fake stands in for the proxy: a request for the unresolvable AT host can only reach it through the proxy.
    monkeypatch.setenv("HTTP_PROXY", fake_at.base_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sender = sender_for(fake_at, base_url="http://api.africastalking.invalid")
    assert sender._client is None
    assert sender.send(TO, "via proxy").accepted
    assert fake_at.requests_snapshot()[-1]["body"]["message"] == "via proxy"
