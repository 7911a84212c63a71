"""What a session keeps between hops: the saved-meters snapshot (read once per session, dropped when the session
changes the list) and a stored record that cannot be read (a session from another version starts again)."""

from datetime import UTC, datetime

from tests.ussd.conftest import Phone
from ussd import effects, sessions
from ussd.conversation import MeterInfo, RemoveMeter, SavedMeter, SaveMeter
from vending.models import CustomerMeter, Meter

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_the_pick_hop_answers_from_the_snapshot_the_menu_hop_read(phone, world, django_assert_num_queries):
    phone.dial()
    assert phone.send("1").startswith("CON Buy: pick a meter\n1. Home 04123456784\n")
    with django_assert_num_queries(0):  # saved meters, status and amount range were read on the menu hop
        assert phone.send("1").startswith("CON W*** H*** 04123456784\nEnter amount, KES 20 to 35000:")


def test_a_snapshot_is_per_session(phone, world):
    phone.dial()
    phone.send("1")
    CustomerMeter.objects.filter(customer=world["wanjiku"], alias="Home").delete()
    # This session keeps the list it showed (the pick still works) ...
    assert phone.send("1").startswith("CON W*** H*** 04123456784\n")
    # ... and the next session reads the list again.
    assert phone.dial().startswith("CON Continue where you stopped?")
    phone.send("2")  # no, start again
    assert phone.send("1").startswith("CON Buy: pick a meter\n1. Shop 04123456792\n")


def test_the_snapshot_gives_the_same_answers_as_the_database(world):
    reads: dict = {}
    first = effects.DatabaseReader(phone="+254711000111", customer_id=world["wanjiku"].pk, now=NOW, reads=reads)
    saved, info = list(first.saved_meters()), first.find_meter("04123456784")
    assert saved == [
        SavedMeter("04123456784", "Home", "W*** H***"),
        SavedMeter("04123456792", "Shop", "O*** S***"),
        SavedMeter("47500150231", "Farm", "K*** F***"),
    ]
    assert info == MeterInfo(
        drn="04123456784", label="W*** H***", active=True, currency="KES", min_amount="20.00", max_amount="35000.00"
    )
    stored = sessions.Session.from_json(sessions.Session(customer_id=1, reads=reads).to_json())
    assert stored is not None
    later = effects.DatabaseReader(phone="+254711000111", customer_id=world["wanjiku"].pk, now=NOW, reads=stored.reads)
    assert list(later.saved_meters()) == saved
    assert later.find_meter("04123456784") == info
    # A meter that is not saved is still looked up in the database.
    assert later.find_meter("04123456800").label == "A*** F*** 3***"


def test_a_blocked_saved_meter_shows_as_blocked_in_the_snapshot(world):
    Meter.objects.filter(drn="04123456792").update(status=Meter.Status.BLOCKED)
    reader = effects.DatabaseReader(phone="+254711000111", customer_id=world["wanjiku"].pk, now=NOW, reads={})
    reader.saved_meters()
    assert reader.find_meter("04123456792").active is False


def test_saving_or_removing_a_meter_drops_the_snapshot(world):
    for effect in (SaveMeter("04123456800", alias="Flat"), RemoveMeter("04123456800")):
        reads = {"saved": [["04123456784", "Home", "W*** H***", True, "KES", "20.00", "35000.00"]]}
        effects.perform(
            (effect,),
            phone="+254711000111",
            customer_id=world["wanjiku"].pk,
            session_id="s1",
            lang="en",
            now=NOW,
            reads=reads,
        )
        assert "saved" not in reads
    other = {"saved": []}
    effects.perform(
        (), phone="+254711000111", customer_id=world["wanjiku"].pk, session_id="s1", lang="en", now=NOW, reads=other
    )
    assert other == {"saved": []}


def test_a_meter_saved_while_buying_is_in_the_next_list_of_the_same_session(new_phone, world):
    new_phone.dial()
    assert new_phone.send("1").startswith("CON Enter the meter number:")  # no saved meters (an empty snapshot)
    new_phone.send("04123456784")
    assert new_phone.send("2").startswith("CON W*** H*** 04123456784\n")  # save meter and continue
    new_phone.send("00")  # home
    assert new_phone.send("1").startswith("CON Buy: pick a meter\n1. W*** H*** 04123456784\n")


def test_an_unreadable_session_record_starts_the_conversation_again():
    assert sessions.Session.from_json(b"\x80\x05not json") is None
    assert sessions.Session.from_json('{"customer_id": "x", "machine": {}}') is None
    assert sessions.Session.from_json('{"customer_id": 1, "unknown": 2}') is None
    old = sessions.Session.from_json(
        '{"customer_id": 1, "last_text": "", "last_reply": "CON x", "ended": false, "machine": {}}'
    )
    assert old is not None and old.reads == {}


def test_every_hop_of_a_purchase_round_trips_its_session(phone: Phone, world):
    phone.dial()
    phone.send("1")
    phone.send("1")
    phone.send("500")
    assert phone.send("1").startswith("END Approve the M-Pesa prompt for KES 500")
    assert phone.repeat().startswith("END Approve the M-Pesa prompt for KES 500")  # the stored reply, replayed
