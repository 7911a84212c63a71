"""The Kannel sender's HTTP behaviour against a stand-in smsbox (the real Kannel runs in the e2e tests):
what smsbox's answers mean, what a lost connection means, and the dlr-url it is given."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from fakes._base import FakeHandler, FakeServer
from vending.sms import DeliveryStatus, InvalidDeliveryReport, SmsRejected, SmsUnavailable
from vending.sms.kannel import KannelConfig, KannelSender, parse_kannel_delivery_report

TO = "+252611000111"


class StandInSmsbox(FakeServer):
    """Answers /cgi-bin/sendsms as smsbox does; `status`/`body`/`delay`/`close` shape the next answers."""

    def __init__(self) -> None:
        super().__init__()
        self.status, self.body, self.delay, self.close = 202, "0: Accepted for delivery", 0.0, False
        self.queries: list[dict[str, str]] = []

    def handle_api(self, handler: FakeHandler, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        self.queries.append(query)
        if self.delay:
            time.sleep(self.delay)
        if self.close:
            handler.close_connection = True
        handler.reply(self.status, self.body.encode(), "text/html")


@pytest.fixture
def smsbox():
    with StandInSmsbox() as server:
        yield server


def sender(url: str, **overrides: object) -> KannelSender:
    values: dict[str, object] = {
        "sendsms_url": f"{url}/cgi-bin/sendsms",
        "username": "koronto",
        "password": "pw",
        "dlr_url": "https://k.example/hooks/sms/kannel/s3cret/delivery/",
        **overrides,
    }
    return KannelSender(KannelConfig(**values))  # type: ignore[arg-type]


def test_an_accepted_send_carries_coding_charset_and_our_id_in_the_dlr_url(smsbox):
    result = sender(smsbox.base_url, sender_id="KORONTO").send(TO, "Koodh 1234")
    query = smsbox.queries[0]
    assert result.accepted and result.encoding == "gsm7"
    assert (query["to"], query["text"], query["from"], query["coding"], query["charset"], query["dlr-mask"]) == (
        TO,
        "Koodh 1234",
        "KORONTO",
        "0",
        "UTF-8",
        "31",
    )
    dlr = urlsplit(query["dlr-url"])
    assert dlr.path == "/hooks/sms/kannel/s3cret/delivery/"
    assert parse_qs(dlr.query) == {"id": [result.provider_message_id], "type": ["%d"], "answer": ["%A"], "at": ["%T"]}


def test_a_ucs2_text_is_sent_with_coding_2(smsbox):
    assert sender(smsbox.base_url).send(TO, "Mahadsanid \u26a1").encoding == "ucs2"
    assert smsbox.queries[0]["coding"] == "2" and smsbox.queries[0]["text"] == "Mahadsanid \u26a1"


def test_a_route_sender_id_overrides_the_configured_one(smsbox):
    sender(smsbox.base_url, sender_id="KORONTO").send(TO, "x", sender_id="UTILITY")
    assert smsbox.queries[0]["from"] == "UTILITY"


def test_wrong_credentials_are_a_configuration_error(smsbox):
    smsbox.status, smsbox.body = 403, "Authorization failed for sendsms"
    with pytest.raises(SmsRejected):
        sender(smsbox.base_url).send(TO, "x")


def test_a_request_smsbox_cannot_use_is_a_refusal(smsbox):
    smsbox.status, smsbox.body = 400, "Sender missing and no global set, rejected"
    result = sender(smsbox.base_url).send(TO, "x")
    assert (result.accepted, result.retryable, result.status) == (False, False, smsbox.body)


def test_a_full_kannel_is_transient_and_did_not_take_it(smsbox):
    smsbox.status, smsbox.body = 503, "Temporal failure, try again later."
    with pytest.raises(SmsUnavailable) as caught:
        sender(smsbox.base_url).send(TO, "x")
    assert not caught.value.maybe_sent


def test_kannel_down_is_transient_and_certainly_not_sent():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SmsUnavailable) as caught:
        sender(f"http://127.0.0.1:{port}").send(TO, "x")
    assert not caught.value.maybe_sent


def test_no_answer_in_time_may_have_been_sent(smsbox):
    smsbox.delay = 1.0
    with pytest.raises(SmsUnavailable) as caught:
        sender(smsbox.base_url, timeout=(1.0, 0.2)).send(TO, "x")
    assert caught.value.maybe_sent


def test_the_connection_is_kept_and_renewed_when_smsbox_closes_it(smsbox):
    s = sender(smsbox.base_url)
    assert all(s.send(TO, f"m{i}").accepted for i in range(3))
    smsbox.close = True  # smsbox (or a proxy) closes after each answer
    assert all(s.send(TO, f"c{i}").accepted for i in range(3))
    assert len(smsbox.queries) == 6


def test_one_connection_per_thread(smsbox):
    s = sender(smsbox.base_url)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(s.send(TO, "t").accepted)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("1", DeliveryStatus.SUCCESS),
        ("2", DeliveryStatus.FAILED),
        ("4", DeliveryStatus.BUFFERED),
        ("8", DeliveryStatus.SUBMITTED),
        ("16", DeliveryStatus.REJECTED),
    ],
)
def test_report_types_map_to_our_statuses(kind, status):
    report = parse_kannel_delivery_report({"id": "kannel-ab12", "type": kind, "answer": "NACK/0x45"})
    assert report.status == status
    assert report.failure_reason == ("NACK/0x45" if status in (DeliveryStatus.FAILED, DeliveryStatus.REJECTED) else "")


@pytest.mark.parametrize("form", [{"id": "kannel-ab12", "type": "32"}, {"id": "ATXid_1", "type": "1"}, {"type": "1"}])
def test_unreadable_reports_are_refused(form):
    with pytest.raises(InvalidDeliveryReport):
        parse_kannel_delivery_report(form)
