"""Arbitrary input at the endpoint (unicode, huge, *-heavy, control characters): never a 5xx, always a valid
CON/END reply of at most 160 GSM-7 characters."""

from django.conf import settings as django_settings
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.ussd.conftest import SERVICE_CODE, Phone
from vending.sms.gsm7 import is_gsm7

# Everything a form field can carry (lone surrogates cannot be sent as UTF-8 at all).
ANY_CHAR = st.characters(exclude_categories=["Cs"])
FIELD = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.text(alphabet="*#0123456789", max_size=200),  # keypad-shaped, star-heavy
    st.text(st.characters(categories=["Cc", "Zs", "So"]), max_size=60),  # control characters, spaces, emoji
    st.text(alphabet="*9", min_size=2000, max_size=8000),  # huge
)
ANSWER = st.one_of(FIELD, st.sampled_from(["0", "00", "98", "1", "2", "3", "4", "5", "04123456784", "500", "*"]))
HYPOTHESIS = hypothesis_settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def assert_valid(body: str, caplog) -> None:
    assert body.startswith(("CON ", "END "))
    # A polite END that hides a crash is still a bug: nothing may have been logged as an error.
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert len(body) <= 160
    assert is_gsm7(body)


@HYPOTHESIS
@given(
    session_id=FIELD,
    phone_number=st.one_of(FIELD, st.just("+254711000111")),
    service_code=st.one_of(FIELD, st.just(SERVICE_CODE)),
    text=FIELD,
    network=FIELD,
)
def test_any_first_hop_gets_a_valid_reply(
    client, world, clock, caplog, session_id, phone_number, service_code, text, network
):
    response = client.post(
        f"/hooks/at/ussd/{django_settings.WEBHOOK_SECRET}/",
        {
            "sessionId": session_id,
            "phoneNumber": phone_number,
            "serviceCode": service_code,
            "text": text,
            "networkCode": network,
        },
    )
    assert response.status_code == 200
    assert_valid(response.content.decode(), caplog)


@HYPOTHESIS
@given(answers=st.lists(ANSWER, min_size=1, max_size=8))
@example(answers=["¹"])  # found by this test: a digit to str.isdigit(), not to int()
@example(answers=["1", "٠٤١٢٣٤٥٦٧٨٤"])  # Arabic-Indic digits
def test_any_answers_in_a_session_get_valid_replies(client, world, clock, settings, caplog, answers):
    settings.USSD_DIALS_PER_HOUR = 10_000
    phone = Phone(client, "+254711000111")
    assert_valid(phone.dial(), caplog)
    for answer in answers:
        if phone.last.startswith("END "):
            break
        assert_valid(phone.send(answer), caplog)
    clock.advance(minutes=3)  # the next example dials fresh, not into a resume offer
