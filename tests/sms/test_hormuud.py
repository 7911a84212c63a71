"""The Hormuud SMS adapter over HTTP against its loopback fake: token cached and shared, SendSMS, refusals."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from fakes._base import CallbackReceiver
from fakes.hormuud import FAKE_HORMUUD_PASSWORD, FAKE_HORMUUD_USERNAME, FakeHormuud
from vending.payments.tokencache import LocalCache
from vending.sms import DeliveryStatus, SmsRejected, SmsUnavailable
from vending.sms.hormuud import (
    HormuudConfig,
    HormuudSender,
    parse_hormuud_delivery_report,
    parse_hormuud_inbound,
)

TO = "+252611000111"


@pytest.fixture
def fake() -> Iterator[FakeHormuud]:
    with FakeHormuud() as server:
        yield server


def sender(fake: FakeHormuud, cache: LocalCache | None = None, **overrides: str) -> HormuudSender:
    values = {
        "base_url": fake.base_url,
        "username": FAKE_HORMUUD_USERNAME,
        "password": FAKE_HORMUUD_PASSWORD,
        "sender_id": "KORONTO",
        **overrides,
    }
    return HormuudSender(HormuudConfig(**values), cache=cache or LocalCache())


def test_send_posts_mobile_message_senderid_with_a_bearer_token(fake):
    result = sender(fake).send(TO, "Koodh 1234")
    assert result.accepted and result.provider_message_id == f"hormuud-{fake.messages[0]['id']}"
    assert [(m["mobile"], m["message"], m["senderid"]) for m in fake.messages] == [
        ("252611000111", "Koodh 1234", "KORONTO")
    ]
    send = next(r for r in fake.requests if r["path"] == "/api/SendSMS")
    assert send["headers"]["Authorization"].startswith("Bearer ")


def test_the_token_is_fetched_once_and_shared_between_workers(fake):
    cache = LocalCache()  # Django's cache (Redis) in production: one per deployment
    workers = [sender(fake, cache) for _ in range(4)]
    threads = [threading.Thread(target=w.send, args=(TO, f"m{i}")) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.messages) == 4 and fake.tokens_issued == 1


def test_an_expired_token_is_renewed_once_and_the_send_retried(fake):
    cache = LocalCache()
    first = sender(fake, cache)
    first.send(TO, "one")
    fake.tokens.clear()  # Hormuud forgot every token: the next send gets a 401
    assert first.send(TO, "two").accepted
    assert fake.tokens_issued == 2 and [m["message"] for m in fake.messages] == ["one", "two"]


def test_wrong_credentials_are_a_configuration_error(fake):
    with pytest.raises(SmsRejected):
        sender(fake, password="wrong").send(TO, "x")


def test_a_refused_number_is_data_not_an_exception(fake):
    fake.refuse(TO, "201", "Invalid mobile number")
    result = sender(fake).send(TO, "x")
    assert (result.accepted, result.status, result.retryable) == (False, "Invalid mobile number", False)


def test_a_server_error_is_transient_and_hormuud_did_not_take_it(fake):
    fake.http_error = 503
    with pytest.raises(SmsUnavailable) as caught:
        sender(fake).send(TO, "x")
    assert not caught.value.maybe_sent


def test_unreachable_is_transient_and_certainly_not_sent():
    with FakeHormuud() as gone:
        base = gone.base_url
    with pytest.raises(SmsUnavailable) as caught:
        HormuudSender(HormuudConfig(base_url=base, username="u", password="p")).send(TO, "x")
    assert not caught.value.maybe_sent


def test_delivery_reports_and_inbound_pushes_of_the_fake_are_what_the_parsers_read(fake):
    with CallbackReceiver() as ours:
        fake.dlr_url, fake.mo_url = f"{ours.base_url}/dlr", f"{ours.base_url}/mo"
        result = sender(fake).send(TO, "x")
        fake.send_inbound(TO, "IIBSO 0100000000016 5")
        arrived = dict(ours.wait_for(2))
    report = parse_hormuud_delivery_report(json.loads(arrived["/dlr"]))
    assert (report.provider_message_id, report.status) == (result.provider_message_id, DeliveryStatus.SUCCESS)
    inbound = parse_hormuud_inbound(json.loads(arrived["/mo"]))
    assert (inbound.sender, inbound.text) == (TO, "IIBSO 0100000000016 5") and inbound.message_id
