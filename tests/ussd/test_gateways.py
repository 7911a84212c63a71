"""The USSD gateways: one purchase dialogue through each adapter, their session semantics, bad input.

The handsets are the client-side fakes in fakes/ussd_gateways.py, sending what each gateway sends; here they
go through Django's test client (the same views, middleware and URL routing as a real request) so the
pipeline runs eagerly in the test's transaction. tests/ussd/test_gateways_http.py drives the same dialogue
over real HTTP.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.core import checks

from fakes.ussd_gateways import Dialer, GatewayError, dialer
from tests.pipeline.helpers import texts_to
from tests.ussd.conftest import SERVICE_CODE
from ussd.gateways.formats import format_from_config
from vending.i18n import render
from vending.models import AuditEvent, Purchase
from vending.states import PurchaseState

pytestmark = pytest.mark.django_db

HODAN = "+252611000111"  # Hormuud, Somali, two saved USD meters (tests/ussd/conftest.py `world`)
GATEWAYS = ("africastalking", "json", "xml")


def url(gateway: str) -> str:
    return f"/hooks/ussd/{gateway}/{django_settings.WEBHOOK_SECRET}/"


@pytest.fixture
def transport(client):
    def send(method: str, target: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
        response = client.generic(method, target, body, content_type=content_type)
        return response.status_code, response["Content-Type"], response.content

    return send


def handset(gateway: str, transport, phone: str = HODAN, **kwargs) -> Dialer:
    return dialer(gateway, url(gateway), phone, SERVICE_CODE, network="63701", transport=transport, **kwargs)


def so(key: str, **values: object) -> str:
    return render(key, "so", **values)


def buy_to_confirm(phone: Dialer) -> None:
    """Home → buy → the saved meter Guriga → USD 10 → EVC Plus: the confirm screen is showing."""
    assert phone.dial().text.startswith(so("ussd.home.title") + "\n1. " + so("ussd.home.buy"))
    assert phone.send("1").text.startswith(so("ussd.buy.pick_meter") + "\n1. Guriga 0100000000016")
    assert "USD 1 ilaa 500" in phone.send("1").text
    wallets = phone.send("10")
    assert wallets.text.split("\n")[:5] == ["Ku bixi USD 10:", "1. EVC Plus", "2. Zaad", "3. Sahal", "4. eDahab"]
    confirm = phone.send("1")
    assert not confirm.end and "Ku bixi EVC Plus\n1. Xaqiiji" in confirm.text


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_the_same_purchase_dialogue_through_each_gateway(
    gateway, transport, world, clock, eager, django_capture_on_commit_callbacks
):
    phone = handset(gateway, transport)
    with django_capture_on_commit_callbacks(execute=True):
        buy_to_confirm(phone)
        approved = phone.send("1")
    assert approved.end
    assert approved.text == so("ussd.buy.approve", wallet="EVC Plus", currency="USD", amount="10")
    purchase = Purchase.objects.get()
    assert (purchase.wallet, purchase.amount, purchase.meter.drn, purchase.idempotency_key) == (
        "evcplus",
        10,
        "0100000000016",
        f"ussd:{phone.session_id}",
    )
    assert purchase.state == PurchaseState.DELIVERED
    token = purchase.tokens.get(kind="credit")
    assert any(token.grouped in text for text in texts_to(HODAN))  # the token SMS, in Somali


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_a_repeated_request_gets_the_same_answer_and_does_not_advance(gateway, transport, world, clock):
    phone = handset(gateway, transport)
    phone.dial()
    phone.send("1")
    amount = phone.send("1")
    assert phone.repeat() == amount  # the gateway re-sent "1": still the amount screen, not a second step
    wallets = phone.send("10")
    assert phone.repeat() == wallets
    confirm = phone.send("1")
    assert "EVC Plus" in confirm.text  # the first wallet: the repeat was not read as an answer
    approved = phone.send("1")
    assert phone.repeat() == approved and approved.end
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize("gateway", ["json", "xml"])
def test_a_network_timeout_mid_dialogue_is_recorded_and_the_redial_resumes_once(gateway, transport, world, clock):
    phone = handset(gateway, transport)
    buy_to_confirm(phone)
    dropped = phone.session_id
    notice = phone.timeout()
    assert notice.end and notice.text == ""
    event = AuditEvent.objects.get(action="ussd.network_timeout")
    assert event.data == {"screen": "buy.confirm", "ended": False} and event.actor_label == "gateway"

    clock.advance(seconds=30)
    offer = phone.dial()  # the customer dials again: a new session id
    assert offer.text == so("ussd.resume")
    assert "Xaqiiji" in phone.send("1").text  # back on the confirm screen
    assert phone.send("1").end
    purchase = Purchase.objects.get()
    assert purchase.idempotency_key == f"ussd:{dropped}"  # the dropped dialogue's purchase

    # The confirm the customer pressed before the network dropped arrives late, from the dropped session:
    # the same purchase, not a second one.
    late = handset(gateway, transport)
    late.session_id, late.sequence = dropped, 40
    assert late.send("1").end
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize("gateway", ["json", "xml"])
def test_a_purchase_confirmed_just_before_a_timeout_is_kept_once(
    gateway, transport, world, clock, eager, django_capture_on_commit_callbacks
):
    phone = handset(gateway, transport)
    with django_capture_on_commit_callbacks(execute=True):
        buy_to_confirm(phone)
        approved = phone.send("1")
        assert phone.timeout().end  # the network drops the session as our end reply leaves
        assert phone.repeat().end  # and the gateway repeats the timeout notice
    purchase = Purchase.objects.get()
    assert purchase.state == PurchaseState.DELIVERED  # not lost: paid, vended, token SMS sent
    assert AuditEvent.objects.filter(action="ussd.network_timeout").count() == 1
    clock.advance(seconds=20)
    assert phone.dial().text.startswith(so("ussd.home.title"))  # no offer to confirm it again
    assert Purchase.objects.count() == 1 and approved.end


def test_a_release_ends_quietly_and_the_dialogue_can_be_resumed(transport, world, clock):
    phone = handset("json", transport)
    phone.dial()
    phone.send("1")
    released = phone.release()
    assert released.end and released.text == ""
    clock.advance(seconds=10)
    assert phone.dial().text == so("ussd.resume")


def test_africas_talking_has_no_notices(transport, world, clock):
    phone = handset("africastalking", transport)
    phone.dial()
    with pytest.raises(GatewayError):
        phone.timeout()


def test_latest_input_gateways_keep_the_history_themselves(transport, world, clock):
    from ussd import sessions
    from vending import phones

    phone = handset("json", transport)
    phone.dial()
    for answer in ("1", "1", "10"):
        phone.send(answer)
    session, _ = sessions.load(phone.session_id, phones.normalise(HODAN))
    assert session is not None and session.last_text == "1*1*10"


def test_without_a_sequence_number_only_initiation_repeats_are_recognised(settings, transport, world, clock):
    settings.USSD_GATEWAY_FORMATS = {"plain": {"format": "json", "sequence": ""}}
    fmt = format_from_config("plain", {"format": "json", "sequence": ""})
    phone = handset("plain", transport, fmt=fmt)
    first = phone.dial()
    assert phone.repeat() == first
    phone.send("1")
    again = phone.send("0")  # "0 Back": an answer, even though it is not new text to the machine
    assert again == first


def test_a_format_variant_is_configuration(
    settings, transport, world, clock, eager, django_capture_on_commit_callbacks
):
    # Nalo-style names and a boolean message type: true on the dial, false on an answer.
    variant = {
        "format": "json",
        "session_id": "SESSIONID",
        "phone": "MSISDN",
        "service_code": "USERID",
        "input": "USERDATA",
        "type": "MSGTYPE",
        "sequence": "",
        "network": "NETWORK",
        "types": {"begin": [True], "answer": [False], "release": ["release"], "timeout": ["timeout"]},
        "message": "MSG",
        "flag": "MSGTYPE",
        "continue": True,
        "end": False,
        "echo": {"SESSIONID": "SESSIONID", "MSISDN": "MSISDN"},
    }
    settings.USSD_GATEWAY_FORMATS = {"nalo": variant}
    assert not [c for c in checks.run_checks() if c.id == "ussd.E001"]
    phone = handset("nalo", transport, fmt=format_from_config("nalo", variant))
    with django_capture_on_commit_callbacks(execute=True):
        buy_to_confirm(phone)
        assert phone.send("1").end
    assert Purchase.objects.get().state == PurchaseState.DELIVERED
    body = json.loads(phone.last_request[1])
    assert body["MSGTYPE"] is False and "USERDATA" in body  # the fake sent exactly the variant's names


def test_a_bad_format_setting_is_a_start_up_error(settings):
    settings.USSD_GATEWAY_FORMATS = {"nalo": {"format": "json", "sesion_id": "SESSIONID"}}
    errors = [c for c in checks.run_checks() if c.id == "ussd.E001"]
    assert errors and "sesion_id" in errors[0].msg


def test_an_unknown_gateway_is_404_and_a_wrong_secret_too(client, world):
    assert (
        client.post(
            f"/hooks/ussd/nosuch/{django_settings.WEBHOOK_SECRET}/", b"{}", content_type="application/json"
        ).status_code
        == 404
    )
    assert client.post("/hooks/ussd/json/wrong-secret/", b"{}", content_type="application/json").status_code == 404


def test_malformed_requests_get_the_gateways_own_end_reply_in_the_customers_language(client, world, clock):
    somali_error, english_error = so("ussd.error"), render("ussd.error", "en")
    # JSON that is not JSON at all: no phone to go by, so English; still a JSON end reply.
    response = client.post(url("json"), b"{not json", content_type="application/json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "sessionId": "",
        "msisdn": "",
        "message": english_error,
        "continueSession": False,
    }
    # A known Somali caller with an unknown message type: the end reply in Somali.
    body = {"sessionId": "s1", "msisdn": HODAN, "serviceCode": SERVICE_CODE, "messageType": "bogus"}
    reply = json.loads(client.post(url("json"), json.dumps(body), content_type="application/json").content)
    assert (reply["message"], reply["continueSession"]) == (somali_error, False)
    # XML: broken, or with an entity declaration (refused before parsing).
    for raw in (b"<ussd><msisdn>", b'<!DOCTYPE x [<!ENTITY a "b">]><ussd><type>1</type></ussd>'):
        response = client.post(url("xml"), raw, content_type="application/xml")
        assert response.status_code == 200 and b"<type>3</type>" in response.content
        assert english_error.encode() in response.content
    xml = f"<ussd><sessionid>s2</sessionid><msisdn>{HODAN}</msisdn><type>9</type></ussd>".encode()
    assert somali_error.encode() in client.post(url("xml"), xml, content_type="application/xml").content
    # Africa's Talking without a session id.
    assert client.post(url("africastalking"), {"phoneNumber": HODAN}).content.decode() == f"END {somali_error}"
    # Too large a body is not a hop.
    huge = json.dumps({"sessionId": "s3", "msisdn": HODAN, "x": "a" * 20_000}).encode()
    assert (
        json.loads(client.post(url("json"), huge, content_type="application/json").content)["continueSession"] is False
    )


def test_get_carries_the_same_fields(client, world, clock):
    home = client.get(
        url("africastalking"),
        {"sessionId": "g1", "phoneNumber": HODAN, "serviceCode": SERVICE_CODE, "networkCode": "63701", "text": ""},
    )
    assert home.content.decode().startswith("CON " + so("ussd.home.title"))
    reply = client.get(
        url("json"),
        {"sessionId": "g2", "msisdn": HODAN, "serviceCode": SERVICE_CODE, "messageType": "initiation", "sequence": "1"},
    )
    assert json.loads(reply.content)["continueSession"] is True


def test_an_answer_after_the_session_expired_says_so_and_starts_again(client, world, clock):
    phone = handset("africastalking", lambda *a: _client_send(client, *a))
    phone.dial()
    phone.send("1")
    clock.advance(seconds=django_settings.USSD_SESSION_TTL_SECONDS + 60)
    from django.core.cache import cache

    from ussd import sessions
    from vending import phones

    # The session record has expired (the cache's own TTL runs on the wall clock, not the test's clock).
    cache.delete(sessions._session_key(phone.session_id, phones.normalise(HODAN)))
    screen = phone.send("1")
    assert not screen.end
    assert screen.text.split("\n")[:2] == [so("ussd.session_ended"), "1. " + so("ussd.home.buy")]
    assert phone.send("1").text.startswith(so("ussd.buy.pick_meter"))  # and the dialogue goes on from home


def _client_send(client, method: str, target: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    response = client.generic(method, target, body, content_type=content_type)
    return response.status_code, response["Content-Type"], response.content


def test_an_empty_amount_asks_for_the_amount(transport, world, clock):
    phone = handset("json", transport)
    phone.dial()
    phone.send("1")
    phone.send("1")
    assert phone.send("").text.startswith(so("ussd.err.amount_empty") + "\n")


def test_the_worked_example_of_docs_gateways_md(settings, transport, world, clock):
    # The "Adding an operator" example of docs/GATEWAYS.md, as written there.
    example = {
        "format": "json",
        "session_id": "SessionId",
        "phone": "Mobile",
        "service_code": "ServiceCode",
        "input": "Message",
        "type": "Type",
        "sequence": "Sequence",
        "types": {"begin": ["Initiation"], "answer": ["Response"], "release": ["Release"], "timeout": ["Timeout"]},
        "message": "Message",
        "flag": "Type",
        "continue": "Response",
        "end": "Release",
        "echo": {},
    }
    settings.USSD_GATEWAY_FORMATS = {"hormuud": example}
    phone = handset("hormuud", transport, fmt=format_from_config("hormuud", example))
    assert phone.dial().text.startswith(so("ussd.home.title"))
    assert phone.send("1").text.startswith(so("ussd.buy.pick_meter"))
    assert phone.timeout().end
    assert AuditEvent.objects.filter(action="ussd.network_timeout").exists()


def test_declining_the_resume_offer_starts_a_dialogue_of_its_own(transport, world, clock):
    phone = handset("json", transport)
    buy_to_confirm(phone)
    dropped = phone.session_id
    phone.timeout()
    clock.advance(seconds=30)
    assert phone.dial().text == so("ussd.resume")
    assert phone.send("7").text.startswith(so("ussd.err.choice"))  # a slip on the offer is not a yes
    phone.send("2")  # no: start again
    for answer in ("1", "1", "10", "1"):
        phone.send(answer)
    assert phone.send("1").end
    assert Purchase.objects.get().idempotency_key == f"ussd:{phone.session_id}" != f"ussd:{dropped}"
