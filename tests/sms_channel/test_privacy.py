"""Privacy (issue 17) by SMS: adding someone else's meter number answers with a masked owner label."""

from tests.sms_channel.conftest import NEW_KE_PHONE, OFFICE


def test_adding_a_meter_by_sms_shows_the_owner_masked(at):
    reply = at.send(NEW_KE_PHONE, f"ADD {OFFICE}")
    assert "O*** B***" in reply and "Office Block" not in reply
    listing = at.send(NEW_KE_PHONE, "METERS")
    assert "O*** B***" in listing and "Office" not in listing
