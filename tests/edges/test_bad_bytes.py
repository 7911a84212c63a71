"""Bad bytes on every webhook: NUL (raw, `\\u0000`, `%00`), UTF-16, invalid UTF-8, oversized, truncated and
garbage bodies, wrong content types. Never a 5xx; an unreadable body is kept, escaped, in a flagged row that
no task processes (a poison callback is flagged once, not retried).

WaafiPay has no webhook (its API answers synchronously), so the webhooks are Daraja's STK callback and
Africa's Talking's USSD, inbound SMS and delivery reports.
"""

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vending.models import ProviderCallback
from vending.webhookbody import escaped

pytestmark = pytest.mark.django_db

DARAJA_OK = {
    "Body": {
        "stkCallback": {
            "MerchantRequestID": "m-1",
            "CheckoutRequestID": "ws_CO_1",
            "ResultCode": 0,
            "ResultDesc": "ok",
            "CallbackMetadata": {
                "Item": [{"Name": "Amount", "Value": 100}, {"Name": "MpesaReceiptNumber", "Value": "QK1"}]
            },
        }
    }
}
FORMS = {
    "ussd": "sessionId=ATUid_1&phoneNumber=%2B254711000001&serviceCode=%2A384%2A44135%23&networkCode=63902&text=1",
    "sms": "from=%2B254711000001&to=44135&text=HELP&id=ATXid_1&date=2026-11-24",
    "delivery": "id=ATXid_9&status=Success&phoneNumber=%2B254711000001&networkCode=63902&retryCount=0",
}
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain; charset=utf-16",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "application/octet-stream",
    "",
]


def _paths(secret: str) -> dict[str, str]:
    return {
        "daraja": f"/hooks/daraja/{secret}/",
        "ussd": f"/hooks/at/ussd/{secret}/",
        "sms": f"/hooks/at/sms/{secret}/",
        "delivery": f"/hooks/at/delivery/{secret}/",
    }


def _valid(hook: str) -> bytes:
    return json.dumps(DARAJA_OK).encode() if hook == "daraja" else FORMS[hook].encode()


@st.composite
def bad_bodies(draw, hook: str) -> bytes:
    valid = _valid(hook)
    kind = draw(
        st.sampled_from(
            [
                "nul",
                "escaped_nul",
                "escaped_surrogate",
                "percent_nul",
                "utf16",
                "invalid_utf8",
                "truncated",
                "garbage",
                "oversize",
                "odd_values",
            ]
        )
    )
    if kind == "nul":
        at = draw(st.integers(0, len(valid)))
        return valid[:at] + b"\x00" * draw(st.integers(1, 3)) + valid[at:]
    if kind == "escaped_nul":
        text = valid.decode()
        at = draw(st.integers(0, len(text)))
        return (text[:at] + "\\u0000" + text[at:]).encode()
    if kind == "escaped_surrogate":
        text = valid.decode()
        at = draw(st.integers(0, len(text)))
        return (text[:at] + draw(st.sampled_from(["\\ud800", "\\udfff", "\\ud83d"])) + text[at:]).encode()
    if kind == "odd_values":  # well-formed, with any text in the fields that matter
        value = draw(st.text(max_size=40))
        if hook == "daraja":
            data = json.loads(valid)
            data["Body"]["stkCallback"]["CheckoutRequestID"] = value
            return json.dumps(data).encode()
        quoted = quote(value).encode()
        return valid.replace(b"ATXid_", quoted + b"_").replace(b"text=1", b"text=" + quoted)
    if kind == "percent_nul":
        return valid.replace(b"=", b"=%00", 1)
    if kind == "utf16":
        return valid.decode().encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"])))
    if kind == "invalid_utf8":
        at = draw(st.integers(0, len(valid)))
        return valid[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"%FF%FE"])) + valid[at:]
    if kind == "truncated":
        return valid[: draw(st.integers(0, len(valid) - 1))]
    if kind == "oversize":
        return valid + b"x" * (70_000 + draw(st.integers(0, 1000)))
    return draw(st.binary(max_size=300))


@pytest.mark.parametrize("hook", ["daraja", "ussd", "sms", "delivery"])
@settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)
@given(data=st.data())
def test_no_bad_body_gets_a_5xx(hook, data, client, eager, django_capture_on_commit_callbacks):
    from django.conf import settings as django_settings

    body = data.draw(bad_bodies(hook), label="body")
    content_type = data.draw(st.sampled_from(CONTENT_TYPES), label="content_type")
    # Whatever the edge lets through runs its task at once (eager): that must not fail either.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.generic("POST", _paths(django_settings.WEBHOOK_SECRET)[hook], body, content_type=content_type)
    assert response.status_code in (200, 400), (response.status_code, body[:80])


def _post(client, hook: str, body: bytes, content_type: str = "application/x-www-form-urlencoded"):
    from django.conf import settings as django_settings

    return client.generic("POST", _paths(django_settings.WEBHOOK_SECRET)[hook], body, content_type=content_type)


def test_a_poison_checkout_request_id_is_flagged_once_and_never_queued(client, django_capture_on_commit_callbacks):
    from vending.services.payments import callback_process

    poison = json.dumps(DARAJA_OK).replace("ws_CO_1", "ws_CO_\\u0000x").encode()
    for _ in range(3):  # Safaricom repeating it
        with django_capture_on_commit_callbacks() as queued:
            response = _post(client, "daraja", poison, "application/json")
        assert response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
        assert queued == []  # no task: nothing to retry
    row = ProviderCallback.objects.get()
    assert row.flagged and row.flag_reason == "unreadable: NUL (\\u0000) in a JSON string"
    assert row.processed_at is not None and row.body == poison.decode()
    callback_process(callback_id=row.pk)  # a task reaching it anyway finds it done
    row.refresh_from_db()
    assert row.flag_reason == "unreadable: NUL (\\u0000) in a JSON string"


@pytest.mark.parametrize(
    ("hook", "body", "content_type", "status", "problem"),
    [
        ("daraja", b'{"Body": \x00}', "application/json", 200, "NUL byte in the body"),
        ("daraja", json.dumps(DARAJA_OK).encode("utf-16"), "application/json", 200, "NUL byte in the body"),
        ("daraja", '{"é": 1}'.encode("latin-1"), "application/json", 200, "body is not UTF-8"),
        ("daraja", json.dumps(DARAJA_OK).encode()[:40], "application/json", 200, "body is not JSON"),
        (
            "daraja",
            json.dumps(DARAJA_OK).replace("ws_CO_1", "ws_CO_\\ud800").encode(),
            "application/json",
            200,
            "unpaired surrogate (\\ud800-\\udfff) in a JSON string",
        ),
        (
            "delivery",
            FORMS["delivery"].encode() + b"\xff",
            "application/x-www-form-urlencoded",
            200,
            "body is not UTF-8",
        ),
        (
            "delivery",
            FORMS["delivery"].replace("ATXid_9", "ATXid_%00").encode(),
            "application/x-www-form-urlencoded",
            200,
            "NUL (%00) in a form field",
        ),
        # JSON is a delivery report's format for some gateways (Hormuud); plain text is nobody's.
        ("delivery", b"id=ATXid_9", "text/plain", 200, "content type 'text/plain' is not a form or JSON"),
        ("delivery", b'{"id": "ATXid_\\u0000"}', "application/json", 200, "NUL (\\u0000) in a JSON string"),
        (
            "ussd",
            FORMS["ussd"].replace("text=1", "text=1%00").encode(),
            "application/x-www-form-urlencoded",
            200,
            "NUL in a field",
        ),
        ("sms", FORMS["sms"].encode("utf-16-le"), "application/x-www-form-urlencoded", 400, "NUL byte in the body"),
        (
            "sms",
            b"text=%FF%FE&from=%2B254711000001",
            "application/x-www-form-urlencoded",
            400,
            "a form value is not UTF-8",
        ),
        ("sms", b"--xyz\r\nbroken", "multipart/form-data; boundary=xyz", 400, None),
    ],
)
def test_an_unreadable_body_is_kept_escaped_in_a_flagged_row(client, hook, body, content_type, status, problem):
    response = _post(client, hook, body, content_type)
    assert response.status_code == status
    row = ProviderCallback.objects.get()
    assert row.flagged and row.processed_at is not None
    assert row.flag_reason.startswith("unreadable: ")
    if problem is not None:
        assert row.flag_reason == f"unreadable: {problem}"
    assert "\x00" not in row.body and row.body == escaped(body)


def test_escaping_keeps_every_byte_readable():
    assert escaped(b"a\x00b\xffc\xc3\xa9") == "a\\x00b\\xffc\u00e9"


def test_an_oversized_body_keeps_its_head_and_is_flagged(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1024
    body = json.dumps(DARAJA_OK).encode() + b" " * 5000
    assert _post(client, "daraja", body, "application/json").status_code == 200
    row = ProviderCallback.objects.get()
    assert row.flag_reason == "unreadable: body over 1024 bytes"
    assert row.body == body[:1024].decode()


def test_an_sms_with_a_nul_still_gets_its_answer(client, django_capture_on_commit_callbacks):
    # GSM-7 codes "@" as 0x00: a NUL in an SMS is dropped, and the message is answered as usual.
    from vending.models import SmsMessage

    response = _post(client, "sms", FORMS["sms"].replace("HELP", "HE%00LP").encode())
    assert response.status_code == 200
    assert SmsMessage.objects.get(direction="in").text == "HELP"
    assert not ProviderCallback.objects.exists()


@pytest.mark.parametrize("checkout_id", ["ws_CO_\x00x", "ws_CO_\ud800"])
def test_a_poison_row_stored_before_the_webhook_checked_is_flagged_by_the_parser(settings, checkout_id):
    # A row from before this check (or from any other path): the task flags it once instead of failing.
    from vending.services.payments import callback_process

    settings.DARAJA_CONSUMER_KEY, settings.DARAJA_CONSUMER_SECRET = "k", "s"
    settings.DARAJA_SHORTCODE, settings.DARAJA_PASSKEY = "174379", "p"
    body = json.dumps(DARAJA_OK).replace(
        "ws_CO_1", checkout_id.encode("unicode_escape").decode().replace("\\x00", "\\u0000")
    )
    row = ProviderCallback.objects.create(provider="daraja", kind="stk_callback", dedupe_key="legacy", body=body)
    callback_process(callback_id=row.pk)
    row.refresh_from_db()
    assert row.flagged and row.processed_at is not None
    assert row.flag_reason == "unreadable callback: unreadable CheckoutRequestID"
