"""e-Dahab adapter over real HTTP against the loopback fake (docs/GATEWAYS.md, "e-Dahab")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from fakes.edahab import FAKE_EDAHAB_AGENT, FAKE_EDAHAB_API_KEY, FAKE_EDAHAB_SECRET, FakeEdahab
from vending.payments.base import (
    FailureReason,
    Outcome,
    PaymentRequest,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
)
from vending.payments.edahab import EdahabConfig, EdahabProvider, edahab_number, request_hash

PHONE = "+252651234567"


@pytest.fixture
def fake() -> Iterator[FakeEdahab]:
    with FakeEdahab(slow_seconds=1.0) as server:
        yield server


def provider(fake: FakeEdahab, **overrides: object) -> EdahabProvider:
    values: dict = {
        "base_url": f"{fake.base_url}/api/api",
        "api_key": FAKE_EDAHAB_API_KEY,
        "api_secret": FAKE_EDAHAB_SECRET,
        "agent_code": FAKE_EDAHAB_AGENT,
        "timeout_seconds": 0.4,
        "query_timeout": 0.4,
        **overrides,
    }
    return EdahabProvider(EdahabConfig(**values))


def request(amount: str = "5", currency: str = "USD", phone: str = PHONE) -> PaymentRequest:
    return PaymentRequest(
        reference="PUR000123A", amount=Decimal(amount), currency=currency, phone=phone, wallet="edahab"
    )


def test_the_hash_is_sha256_of_the_body_then_the_secret():
    # The worked example on e-Dahab's API introduction page (secret "secretapikey"): its published hash is
    # that of the compact body, which is why the adapter sends compact JSON and hashes those exact bytes.
    body = b'{"apiKey":"123","invoiceId":"ABC"}'
    assert request_hash(body, "secretapikey") == hashlib.sha256(body + b"secretapikey").hexdigest()
    assert request_hash(body, "secretapikey") == "e31f35b1b8e354de379d250f5d87c421a6bb738441d199e8ed23dddbd8cd07e4"


def test_issue_invoice_wire_format_and_pending_until_approved(fake):
    result = provider(fake).initiate(request(amount="2.50"))
    assert result.outcome is Outcome.PENDING and result.provider_reference.startswith("INV")
    [call] = fake.requests_snapshot()
    assert call["path"] == "/api/api/IssueInvoice"
    assert call["body"] == {
        "apiKey": FAKE_EDAHAB_API_KEY,
        "edahabNumber": "651234567",
        "amount": 2.5,
        "agentCode": FAKE_EDAHAB_AGENT,
        "currency": "USD",
    }
    assert "hash" not in json.dumps(call["body"])  # the hash travels in the query string only

    status = provider(fake).query_status(result.provider_reference, request(amount="2.50"))
    assert status.outcome is Outcome.PENDING
    fake.approve(result.provider_reference)
    status = provider(fake).query_status(result.provider_reference, request(amount="2.50"))
    assert status.outcome is Outcome.APPROVED and status.receipt.startswith("MP")
    assert fake.requests_snapshot()[-1]["path"] == "/api/api/CheckInvoiceStatus"


def test_slsh_is_accepted_and_whole_amounts_go_as_integers(fake):
    provider(fake).initiate(request(amount="20000", currency="SLSH"))
    body = fake.requests_snapshot()[-1]["body"]
    assert body["amount"] == 20000 and isinstance(body["amount"], int) and body["currency"] == "SLSH"


def test_a_blocking_invoice_answered_paid_is_approved_at_once(fake):
    fake.set_scenario("651234567", "instant")
    result = provider(fake).initiate(request())
    assert result.outcome is Outcome.APPROVED and result.receipt.startswith("MP")


def test_an_invoice_timeout_is_unknown_never_declined(fake):
    fake.set_scenario("651234567", "slow")
    result = provider(fake).initiate(request())
    assert result.outcome is Outcome.UNKNOWN and result.failure_reason is None
    assert len(fake.invoices_snapshot()) == 1  # the invoice does exist at e-Dahab: it must not be re-sent


def test_a_check_that_times_out_is_transient_and_the_next_one_answers(fake):
    fake.set_scenario("651234567", "check_timeout")
    invoice = provider(fake).initiate(request()).provider_reference
    fake.approve(invoice)
    with pytest.raises(ProviderUnavailable):
        provider(fake).query_status(invoice, request())
    assert provider(fake).query_status(invoice, request()).outcome is Outcome.APPROVED


def test_declines_and_refusals(fake):
    fake.set_scenario("651234567", "insufficient")
    result = provider(fake).initiate(request())
    assert (result.outcome, result.failure_reason) == (Outcome.DECLINED, FailureReason.INSUFFICIENT_FUNDS)

    fake.set_scenario("651234567", "decline")
    invoice = provider(fake).initiate(request()).provider_reference
    assert provider(fake).query_status(invoice, request()).outcome is Outcome.DECLINED

    with pytest.raises(ProviderRejected):  # StatusCode 4: the hash is made with the wrong secret
        provider(fake, api_secret="not-the-secret").initiate(request())
    result = provider(fake).initiate(request(phone="+254711000111"))
    assert (result.outcome, result.failure_reason) == (Outcome.DECLINED, FailureReason.WRONG_WALLET)
    with pytest.raises(ProviderRejected):
        provider(fake).initiate(request(currency="KES"))


def test_unknown_invoice_and_unavailable_service(fake):
    assert provider(fake).query_status("INV404", request()).outcome is Outcome.UNKNOWN  # StatusCode 6
    assert provider(fake).query_status("", request()).outcome is Outcome.UNKNOWN
    fake.set_scenario("651234567", "unavailable")
    with pytest.raises(ProviderUnavailable):
        provider(fake).initiate(request())


def test_connection_refused_is_transient():
    config = EdahabConfig(base_url="http://127.0.0.1:9/api/api", api_key="k", api_secret="s", agent_code="1")
    with pytest.raises(ProviderUnavailable):
        EdahabProvider(config).initiate(request())


def test_configuration_is_checked_and_never_printed():
    with pytest.raises(ProviderNotConfigured):
        EdahabConfig(base_url="https://x", api_key="", api_secret="s", agent_code="1")
    config = EdahabConfig(base_url="https://x", api_key="the-key", api_secret="the-secret", agent_code="1")
    assert "the-key" not in repr(config) and "the-secret" not in repr(config)


def test_edahab_number_is_the_somali_national_number():
    assert edahab_number("+252 65 123 4567") == "651234567"
    with pytest.raises(ValueError):
        edahab_number("+254711000111")
