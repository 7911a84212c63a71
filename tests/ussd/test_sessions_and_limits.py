"""Resuming a dropped session, rate limits per phone, and what the endpoint accepts."""

from django.conf import settings as django_settings

from tests.ussd.conftest import Phone
from tests.ussd.screens import HOME, NAV, con, end
from vending.models import Purchase

RESUME = con("Continue where you stopped?", "1. Yes", "2. No, start again")
AMOUNT_HOME = con("W*** H*** 04123456784", "Enter amount, KES 20 to 35000:", NAV)


def test_a_dropped_session_resumes_where_it_stopped_within_two_minutes(phone, world, clock):
    phone.dial()
    dropped = phone.session_id
    phone.send("1")
    assert phone.send("1") == AMOUNT_HOME
    clock.advance(seconds=110)  # the network dropped the session; the customer dials again
    assert phone.dial() == RESUME
    assert phone.send("1") == AMOUNT_HOME
    assert phone.send("0").startswith("CON Buy: pick a meter\n")  # the way back is restored too
    phone.send("1")
    phone.send("250")
    phone.send("1")
    # A resumed dialogue is the dropped one carried on: its purchase keeps the dropped session's key, so a
    # confirm that still arrives from the dropped session is the same purchase, not a second one.
    assert Purchase.objects.get().idempotency_key == f"ussd:{dropped}"


def test_no_resume_after_the_window(phone, world, clock):
    phone.dial()
    phone.send("2")
    clock.advance(seconds=121)
    assert phone.dial() == HOME


def test_declining_to_resume_starts_at_home_and_a_second_drop_still_offers_it(phone, world, clock):
    phone.dial()
    phone.send("1")
    phone.send("1")
    clock.advance(seconds=30)
    assert phone.dial() == RESUME  # dropped again while being offered: the offer stays
    clock.advance(seconds=30)
    assert phone.dial() == RESUME
    assert phone.send("2") == HOME


def test_an_ended_session_is_not_offered_again(phone, world, clock):
    phone.dial()
    phone.send("2")
    phone.send("1")
    phone.send("2")
    phone.send("1")  # removed: END
    clock.advance(seconds=10)
    assert phone.dial() == HOME


def test_dials_per_hour_are_limited_per_phone(phone, world, clock, settings, client):
    settings.USSD_DIALS_PER_HOUR = 2
    clock.to_start_of_hour()
    assert phone.dial() == HOME
    clock.advance(minutes=5)
    assert phone.dial() == HOME
    assert phone.dial() == end("Too many dials from this phone. Please try again in an hour.")
    assert Phone(client, "+254712345678").dial() == HOME  # another phone is not affected
    clock.advance(hours=1)
    assert phone.dial() == HOME


def test_purchases_per_hour_are_limited_per_phone(phone, world, clock, settings):
    settings.USSD_PURCHASES_PER_HOUR = 1
    clock.to_start_of_hour()
    for expected in ("END Approve the M-Pesa prompt", "END Too many purchases from this phone."):
        phone.dial()
        for answer in ("1", "1", "100"):
            phone.send(answer)
        assert phone.send("1").startswith(expected)
        clock.advance(minutes=3)
    assert Purchase.objects.count() == 1


def test_an_unknown_service_code_gets_a_polite_end(client, world, clock):
    phone = Phone(client, "+254711000111", service_code="*999#")
    assert phone.dial() == end("Sorry, this code is not in use. Please check the number you dialled.")


def test_a_wrong_secret_is_404(client, world):
    response = client.post(
        "/hooks/at/ussd/not-the-secret/",
        {"sessionId": "x", "phoneNumber": "+254711000111", "serviceCode": "*384*44135#", "text": ""},
    )
    assert response.status_code == 404


def test_missing_fields_and_bad_phone_numbers_end_politely(client, world):
    url = f"/hooks/at/ussd/{django_settings.WEBHOOK_SECRET}/"
    for form in (
        {},
        {"sessionId": "s1"},
        {"sessionId": "s2", "phoneNumber": "not a phone", "serviceCode": "*384*44135#", "text": ""},
    ):
        response = client.post(url, form)
        assert response.status_code == 200
        assert response.content.decode().startswith("END Sorry, something went wrong.")
