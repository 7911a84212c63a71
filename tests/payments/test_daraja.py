"""Daraja adapter over real HTTP against the loopback fake (docs/PROTOCOLS.md §3)."""

from __future__ import annotations

import base64
import json
import threading
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests

from fakes._base import CallbackReceiver
from fakes.daraja import FakeDaraja
from vending.payments.base import (
    FailureReason,
    InvalidCallback,
    Outcome,
    ProviderRejected,
    ProviderUnavailable,
    UnsupportedOperation,
)
from vending.payments.daraja import BUY_GOODS, DarajaProvider, reason_for_result_code
from vending.payments.tokencache import LocalCache

from .conftest import daraja_config, mpesa_request


def _push_and_callback(daraja: DarajaProvider, receiver: CallbackReceiver, **request_kw: str):
    request = mpesa_request(receiver.base_url + "/cb/daraja/secret-token/", **request_kw)
    result = daraja.initiate(request)
    assert result.outcome is Outcome.PENDING
    path, body = receiver.wait_for(1)[0]
    assert path == "/cb/daraja/secret-token/"
    return request, result, daraja.parse_callback({"Content-Type": "application/json"}, body)


def test_push_is_pending_then_callback_approves_with_receipt_and_amount(daraja, fake_daraja, receiver):
    _, result, event = _push_and_callback(daraja, receiver)
    assert result.provider_reference.startswith("ws_CO_")
    assert event.outcome is Outcome.APPROVED
    assert event.provider_reference == result.provider_reference
    assert event.receipt.startswith("FAK")
    assert event.amount == Decimal("500") and isinstance(event.amount, Decimal)
    assert event.phone == "+254711000111"


def test_push_request_matches_the_wire_format(daraja, fake_daraja, receiver):
    daraja.initiate(mpesa_request(receiver.base_url + "/cb/", reference="AB12CD34EF56"))
    push = next(r for r in fake_daraja.requests_snapshot() if r["path"].endswith("processrequest"))
    body = push["body"]
    assert push["headers"]["Content-Type"] == "application/json"
    assert push["headers"]["Authorization"].startswith("Bearer ")
    assert body["PhoneNumber"] == body["PartyA"] == "254711000111"
    assert body["PartyB"] == body["BusinessShortCode"] == "174379"
    assert body["Amount"] == "500" and body["TransactionType"] == "CustomerPayBillOnline"
    assert body["AccountReference"] == "AB12CD34EF56" and len(body["TransactionDesc"]) <= 13
    decoded = base64.b64decode(body["Password"]).decode()
    assert decoded == "174379" + "fake-passkey" + body["Timestamp"]


def test_timestamp_is_nairobi_time(fake_daraja, receiver):
    fixed = datetime(2026, 1, 15, 7, 22, 31, tzinfo=ZoneInfo("UTC"))
    fake_daraja.check_timestamp = False
    provider = DarajaProvider(daraja_config(fake_daraja.base_url), now=lambda: fixed)
    provider.initiate(mpesa_request(receiver.base_url + "/cb/"))
    push = fake_daraja.requests_snapshot()[-1]["body"]
    assert push["Timestamp"] == "20260115102231"


def test_buy_goods_uses_the_till_as_party_b(fake_daraja, receiver):
    config = daraja_config(fake_daraja.base_url, transaction_type=BUY_GOODS, till_number="5566778")
    DarajaProvider(config).initiate(mpesa_request(receiver.base_url + "/cb/"))
    body = fake_daraja.requests_snapshot()[-1]["body"]
    assert body["TransactionType"] == "CustomerBuyGoodsOnline" and body["PartyB"] == "5566778"


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("cancel", FailureReason.CANCELLED),
        ("insufficient", FailureReason.INSUFFICIENT_FUNDS),
        ("wrong_pin", FailureReason.WRONG_PIN),
        ("unreachable", FailureReason.UNREACHABLE),
    ],
)
def test_declined_callbacks_map_to_failure_reasons(daraja, fake_daraja, receiver, scenario, reason):
    fake_daraja.set_scenario("254711000111", scenario)
    _, _, event = _push_and_callback(daraja, receiver)
    assert event.outcome is Outcome.DECLINED
    assert event.failure_reason is reason
    assert event.amount is None and event.receipt == ""


def test_cancel_1032_via_http_control_api(daraja, fake_daraja, receiver):
    answer = requests.post(
        fake_daraja.base_url + "/_fake/scenario", json={"phone": "254711000111", "scenario": "cancel"}, timeout=5
    ).json()
    assert answer["scenarios"]["254711000111"] == "cancel"
    _, _, event = _push_and_callback(daraja, receiver)
    assert event.failure_reason is FailureReason.CANCELLED
    assert event.provider_message.startswith("1032")


def test_duplicate_callback_parses_to_identical_events(daraja, fake_daraja, receiver):
    fake_daraja.set_scenario("254711000111", "duplicate")
    daraja.initiate(mpesa_request(receiver.base_url + "/cb/"))
    bodies = receiver.wait_for(2)
    assert len(bodies) == 2
    first, second = (daraja.parse_callback({}, b) for _, b in bodies)
    assert first == second and first.outcome is Outcome.APPROVED


def test_wrong_amount_callback_reports_the_amount_actually_paid(daraja, fake_daraja, receiver):
    fake_daraja.set_scenario("254711000111", "wrong_amount")
    _, _, event = _push_and_callback(daraja, receiver)
    assert event.outcome is Outcome.APPROVED and event.amount == Decimal("499")


def test_lost_callback_is_recovered_by_query(daraja, fake_daraja, receiver):
    fake_daraja.set_scenario("254711000111", "no_callback")
    request = mpesa_request(receiver.base_url + "/cb/")
    result = daraja.initiate(request)
    status = daraja.query_status(result.provider_reference, request)
    assert status.outcome is Outcome.APPROVED
    assert status.receipt == "" and status.amount is None  # the query carries neither
    assert receiver.bodies == []


def test_query_while_customer_has_not_answered_is_pending(daraja, fake_daraja, receiver):
    fake_daraja.set_scenario("254711000111", "pending")
    request = mpesa_request(receiver.base_url + "/cb/")
    result = daraja.initiate(request)
    assert daraja.query_status(result.provider_reference, request).outcome is Outcome.PENDING


def test_query_of_a_cancelled_push_is_declined_with_string_result_code(daraja, fake_daraja, receiver):
    fake_daraja.set_scenario("254711000111", "cancel")
    request = mpesa_request(receiver.base_url + "/cb/")
    result = daraja.initiate(request)
    status = daraja.query_status(result.provider_reference, request)
    assert status.outcome is Outcome.DECLINED and status.failure_reason is FailureReason.CANCELLED
    assert status.raw["ResultCode"] == "1032"


def test_one_oauth_call_serves_many_pushes(daraja, fake_daraja, receiver):
    for _ in range(5):
        daraja.initiate(mpesa_request(receiver.base_url + "/cb/"))
    assert fake_daraja.oauth_calls == 1


def test_token_is_shared_between_workers_through_the_cache(fake_daraja, receiver):
    cache = LocalCache()
    workers = [DarajaProvider(daraja_config(fake_daraja.base_url), cache=cache) for _ in range(6)]
    threads = [threading.Thread(target=w.initiate, args=(mpesa_request(receiver.base_url + "/cb/"),)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake_daraja.oauth_calls == 1
    assert len(fake_daraja.checkouts) == 6


def test_invalid_access_token_refreshes_once_and_retries(daraja, fake_daraja, receiver):
    daraja.initiate(mpesa_request(receiver.base_url + "/cb/"))
    fake_daraja.expire_tokens()
    result = daraja.initiate(mpesa_request(receiver.base_url + "/cb/"))
    assert result.outcome is Outcome.PENDING
    assert fake_daraja.oauth_calls == 2


def test_wrong_consumer_secret_is_permanent(fake_daraja, receiver):
    provider = DarajaProvider(daraja_config(fake_daraja.base_url, consumer_secret="nope"))
    with pytest.raises(ProviderRejected):
        provider.initiate(mpesa_request(receiver.base_url + "/cb/"))


def test_wrong_passkey_is_permanent(fake_daraja, receiver):
    provider = DarajaProvider(daraja_config(fake_daraja.base_url, passkey="wrong"))
    with pytest.raises(ProviderRejected, match="Wrong credentials"):
        provider.initiate(mpesa_request(receiver.base_url + "/cb/"))


def test_spike_arrest_is_transient(daraja, fake_daraja, receiver):
    fake_daraja.set_scenario("254711000111", "spike")
    with pytest.raises(ProviderUnavailable, match=r"500\.003\.02"):
        daraja.initiate(mpesa_request(receiver.base_url + "/cb/"))


def test_subscriber_locked_is_a_busy_decline(daraja, fake_daraja, receiver):
    fake_daraja.set_scenario("254711000111", "busy")
    result = daraja.initiate(mpesa_request(receiver.base_url + "/cb/"))
    assert result.outcome is Outcome.DECLINED and result.failure_reason is FailureReason.BUSY


def test_non_kenyan_number_is_a_wrong_wallet_decline_without_any_call(daraja, fake_daraja, receiver):
    result = daraja.initiate(mpesa_request(receiver.base_url + "/cb/", phone="+252611111111"))
    assert result.outcome is Outcome.DECLINED and result.failure_reason is FailureReason.WRONG_WALLET
    assert fake_daraja.requests_snapshot() == []


def test_fractional_shillings_are_refused_before_the_push(daraja, receiver):
    with pytest.raises(ProviderRejected):
        daraja.initiate(mpesa_request(receiver.base_url + "/cb/", amount="10.50"))


def test_connection_refused_is_transient(receiver):
    dead = FakeDaraja()
    url = dead.base_url
    dead.server_close()
    with pytest.raises(ProviderUnavailable):
        DarajaProvider(daraja_config(url)).initiate(mpesa_request(receiver.base_url + "/cb/"))


def test_push_timeout_is_unknown_not_failed(fake_daraja, receiver, monkeypatch):
    provider = DarajaProvider(daraja_config(fake_daraja.base_url, read_timeout=0.2))
    provider._token.get()  # fetch the token first; only the push should be slow
    original = fake_daraja._push

    def slow_push(handler, payload):
        threading.Event().wait(0.6)
        original(handler, payload)

    monkeypatch.setattr(fake_daraja, "_push", slow_push)
    result = provider.initiate(mpesa_request(receiver.base_url + "/cb/"))
    assert result.outcome is Outcome.UNKNOWN and result.failure_reason is None


def test_garbage_callback_raises_invalid_callback(daraja):
    for body in (
        b"",
        b"not json",
        b"{}",
        b'{"Body": {"stkCallback": {"ResultCode": 0}}}',
        b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1", "ResultCode": "x"}}}',
    ):
        with pytest.raises(InvalidCallback):
            daraja.parse_callback({}, body)


def test_callback_amount_float_becomes_exact_decimal(daraja):
    body = json.dumps(
        {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": "29115-34620561-1",
                    "CheckoutRequestID": "ws_CO_191220191020363925",
                    "ResultCode": 0,
                    "ResultDesc": "The service request is processed successfully.",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": 1.1},
                            {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
                            {"Name": "Balance"},
                            {"Name": "TransactionDate", "Value": 20191219102115},
                            {"Name": "PhoneNumber", "Value": 254708374149},
                        ]
                    },
                }
            }
        }
    )
    event = daraja.parse_callback({}, body.encode())
    assert event.amount == Decimal("1.1") and event.receipt == "NLJ7RT61SV"
    assert event.phone == "+254708374149"


def test_result_code_table():
    assert reason_for_result_code(1) is FailureReason.INSUFFICIENT_FUNDS
    assert reason_for_result_code(17) is FailureReason.BUSY
    assert reason_for_result_code(1019) is FailureReason.UNREACHABLE
    assert reason_for_result_code(8) is FailureReason.LIMIT
    assert reason_for_result_code(424242) is FailureReason.UNKNOWN


def test_daraja_holds_no_funds(daraja, receiver):
    assert not daraja.capabilities.holds_funds
    with pytest.raises(UnsupportedOperation):
        daraja.commit("ws_CO_1", mpesa_request(receiver.base_url + "/cb/"))
