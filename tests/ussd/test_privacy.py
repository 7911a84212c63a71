"""Privacy (issue 17): a caller who types any meter number sees the owner's label masked, never the name
staff typed in, on USSD and by SMS."""

from vending.privacy import masked_label


def test_masked_label_keeps_initials_only():
    assert masked_label("Wanjiku Home") == "W*** H***"
    assert masked_label("  ") == "***"


def test_a_stranger_typing_a_meter_number_on_ussd_sees_a_masked_label(new_phone, world):
    new_phone.dial()
    new_phone.send("1")
    screen = new_phone.send("04123456784")
    assert "W*** H***" in screen and "Wanjiku" not in screen
