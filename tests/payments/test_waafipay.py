"""WaafiPay adapter over real HTTP against the loopback fake (docs/PROTOCOLS.md §4)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from fakes.waafipay import FakeWaafiPay
from vending.payments.base import (
    FailureReason,
    InvalidCallback,
    Outcome,
    OutcomeUnknown,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
)
from vending.payments.waafipay import WaafiPayConfig, WaafiPayProvider, _Reply, reason_for, reference_id_for

from .conftest import evc_request, waafipay_config

ACCOUNT = "252611111111"


def test_preauthorize_approved_carries_transaction_id_and_paid_amount(waafipay, fake_waafipay):
    result = waafipay.initiate(evc_request(amount="10.237"))
    assert result.outcome is Outcome.APPROVED
    assert result.provider_reference == fake_waafipay.transactions["KRT-PUR000123A"]["transaction_id"]
    assert result.amount == Decimal("10.23")  # txAmount: what WaafiPay actually used
    assert result.receipt.startswith("ISR")


def test_preauthorize_request_matches_the_wire_format(waafipay, fake_waafipay):
    waafipay.initiate(evc_request())
    body = fake_waafipay.requests_snapshot()[-1]["body"]
    assert body["serviceName"] == "API_PREAUTHORIZE" and body["schemaVersion"] == "1.0"
    params = body["serviceParams"]
    assert params["paymentMethod"] == "MWALLET_ACCOUNT"
    assert params["payerInfo"] == {"accountNo": ACCOUNT}
    assert params["transactionInfo"]["referenceId"] == "KRT-PUR000123A"
    assert params["transactionInfo"]["amount"] == "10.00" and params["transactionInfo"]["currency"] == "USD"


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("reject", FailureReason.CANCELLED),
        ("insufficient", FailureReason.INSUFFICIENT_FUNDS),
        ("wrong_pin", FailureReason.WRONG_PIN),
        ("no_route", FailureReason.WRONG_WALLET),
        ("timeout", FailureReason.UNREACHABLE),
    ],
)
def test_declines_map_to_failure_reasons(waafipay, fake_waafipay, scenario, reason):
    fake_waafipay.set_scenario(ACCOUNT, scenario)
    result = waafipay.initiate(evc_request())
    assert result.outcome is Outcome.DECLINED and result.failure_reason is reason
    assert result.provider_message  # raw text kept for staff


def test_waafipay_timeout_is_unknown_not_failed(waafipay, fake_waafipay):
    fake_waafipay.set_scenario(ACCOUNT, "slow")
    result = waafipay.initiate(evc_request())
    assert result.outcome is Outcome.UNKNOWN
    assert result.failure_reason is None


def test_replay_with_same_reference_id_recovers_the_approval_without_a_new_prompt(waafipay, fake_waafipay):
    fake_waafipay.set_scenario(ACCOUNT, "slow")
    request = evc_request()
    assert waafipay.initiate(request).outcome is Outcome.UNKNOWN
    assert fake_waafipay.wait_settled("KRT-PUR000123A") is not None
    status = waafipay.query_status("", request)
    assert status.outcome is Outcome.APPROVED
    assert status.provider_reference == fake_waafipay.transactions["KRT-PUR000123A"]["transaction_id"]
    assert fake_waafipay.prompts == 1
    sent = [r["body"]["serviceParams"]["transactionInfo"]["referenceId"] for r in fake_waafipay.requests_snapshot()]
    assert sent == ["KRT-PUR000123A", "KRT-PUR000123A"]


def test_replay_still_unanswered_stays_unknown(waafipay, fake_waafipay):
    fake_waafipay.slow_seconds = 1.5  # longer than two client timeouts
    fake_waafipay.set_scenario(ACCOUNT, "slow")
    request = evc_request()
    waafipay.initiate(request)
    assert waafipay.query_status("", request).outcome is Outcome.UNKNOWN  # prompt still open


def test_replay_rejected_as_duplicate_reference_stays_unknown(waafipay, fake_waafipay):
    fake_waafipay.set_scenario(ACCOUNT, "slow")
    fake_waafipay.replay_mode = "reject"
    request = evc_request()
    waafipay.initiate(request)
    fake_waafipay.wait_settled("KRT-PUR000123A")
    status = waafipay.query_status("", request)
    assert status.outcome is Outcome.UNKNOWN  # an id-reuse error is not a decline


def test_dropped_connection_is_unknown_not_failed(waafipay, fake_waafipay):
    fake_waafipay.set_scenario(ACCOUNT, "drop")
    assert waafipay.initiate(evc_request()).outcome is Outcome.UNKNOWN


def test_http_503_is_transient(waafipay, fake_waafipay):
    fake_waafipay.set_scenario(ACCOUNT, "unavailable")
    with pytest.raises(ProviderUnavailable):
        waafipay.initiate(evc_request())


def test_connection_refused_is_transient():
    dead = FakeWaafiPay()
    url = dead.base_url
    dead.server_close()
    with pytest.raises(ProviderUnavailable):
        WaafiPayProvider(waafipay_config(url)).initiate(evc_request())


def test_commit_after_approval(waafipay, fake_waafipay):
    request = evc_request()
    result = waafipay.initiate(request)
    action = waafipay.commit(result.provider_reference, request)
    assert action.ok
    assert fake_waafipay.transactions["KRT-PUR000123A"]["state"] == "COMMITTED"
    assert fake_waafipay.requests_snapshot()[-1]["body"]["serviceName"] == "API_PREAUTHORIZE_COMMIT"


def test_cancel_releases_the_hold_and_a_repeat_cancel_is_ok(waafipay, fake_waafipay):
    request = evc_request()
    result = waafipay.initiate(request)
    assert waafipay.cancel(result.provider_reference, request).ok
    assert fake_waafipay.transactions["KRT-PUR000123A"]["state"] == "CANCELLED"
    again = waafipay.cancel(result.provider_reference, request)
    assert again.ok and again.provider_message.startswith("5202")


def test_commit_after_cancel_is_not_ok(waafipay, fake_waafipay):
    request = evc_request()
    result = waafipay.initiate(request)
    waafipay.cancel(result.provider_reference, request)
    assert not waafipay.commit(result.provider_reference, request).ok


def test_refund_reverses_a_committed_payment(waafipay, fake_waafipay):
    request = evc_request()
    result = waafipay.initiate(request)
    waafipay.commit(result.provider_reference, request)
    assert waafipay.refund(result.provider_reference, request).ok
    assert fake_waafipay.transactions["KRT-PUR000123A"]["state"] == "REVERSED"
    assert fake_waafipay.requests_snapshot()[-1]["body"]["serviceName"] == "API_CANCELPURCHASE"


def test_commit_timeout_raises_outcome_unknown(fake_waafipay, monkeypatch):
    provider = WaafiPayProvider(waafipay_config(fake_waafipay.base_url))
    request = evc_request()
    result = provider.initiate(request)
    slow = WaafiPayProvider(
        WaafiPayConfig(
            base_url=fake_waafipay.base_url,
            merchant_uid="M0910000",
            api_user_id="1000000",
            api_key="API-FAKEKEY0123456789",
            action_timeout=0.1,
        )
    )
    original = fake_waafipay._follow_up

    def slow_follow_up(handler, service, params):
        time.sleep(0.4)
        original(handler, service, params)

    monkeypatch.setattr(fake_waafipay, "_follow_up", slow_follow_up)
    with pytest.raises(OutcomeUnknown):
        slow.commit(result.provider_reference, request)


def test_commit_without_transaction_id_is_a_bug(waafipay):
    with pytest.raises(ProviderRejected):
        waafipay.commit("", evc_request())


def test_success_needs_the_reference_id_echo():
    provider = WaafiPayProvider(waafipay_config("http://127.0.0.1:9"))
    good = {"state": "approved", "transactionId": "1", "referenceId": "KRT-PUR000123A"}
    assert provider._is_success(_Reply("2001", "RCS_SUCCESS", good, {}), "KRT-PUR000123A")
    assert not provider._is_success(_Reply("2001", "RCS_SUCCESS", {**good, "referenceId": "X"}, {}), "KRT-PUR000123A")
    assert not provider._is_success(_Reply("2001", "RCS_SUCCESS", {**good, "transactionId": ""}, {}), "KRT-PUR000123A")
    assert not provider._is_success(_Reply("5310", "", good, {}), "KRT-PUR000123A")


def test_reference_id_is_10_to_30_safe_characters():
    assert reference_id_for("PUR000123A") == "KRT-PUR000123A"
    assert reference_id_for("AB") == "KRT-____AB"
    assert len(reference_id_for("A" * 12)) == 16


def test_response_msg_allow_list():
    assert reason_for("5310", "Payment Failed (Receiver is Locked)") is FailureReason.PROVIDER_ERROR
    assert reason_for("9999", "Something new") is FailureReason.UNKNOWN
    assert reason_for("5206", "") is FailureReason.CANCELLED


def test_waafipay_sends_no_callbacks(waafipay):
    with pytest.raises(InvalidCallback):
        waafipay.parse_callback({}, b"{}")


def test_missing_credentials_fail_loudly():
    with pytest.raises(ProviderNotConfigured):
        WaafiPayConfig(base_url="http://x", merchant_uid="", api_user_id="1", api_key="k")


def test_config_repr_hides_the_api_key():
    assert "API-FAKEKEY" not in repr(waafipay_config("http://127.0.0.1:1"))
