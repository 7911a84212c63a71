from __future__ import annotations

import pytest

from vending import phones
from vending.wallets import WalletSpec, wallet_registered


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+254711000111", "+254711000111"),
        ("+254 711 000 111", "+254711000111"),
        ("00254711000111", "+254711000111"),
        ("254711000111", "+254711000111"),
        ("0711000111", "+254711000111"),
        ("0711-000-111", "+254711000111"),
        ("+252611111111", "+252611111111"),
        ("252611111111", "+252611111111"),
    ],
)
def test_normalise_to_e164(raw, expected):
    assert phones.normalise(raw) == expected


def test_trunk_zero_uses_the_default_country():
    assert phones.normalise("0611111111", default_region="SO") == "+252611111111"


@pytest.mark.parametrize("raw", ["", "abc", "+2547", "07110001119999", "+999123456789"])
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(phones.InvalidPhoneNumber):
        phones.normalise(raw)


def test_provider_formats():
    assert phones.for_africastalking("0711000111") == "+254711000111"
    assert phones.for_daraja("+254711000111") == "254711000111"
    assert phones.for_daraja("+254110000000") == "254110000000"
    assert phones.for_waafipay("+252611111111") == "252611111111"


def test_daraja_format_refuses_non_kenyan_numbers():
    with pytest.raises(phones.InvalidPhoneNumber):
        phones.for_daraja("+252611111111")


@pytest.mark.parametrize(
    ("number", "network", "wallet"),
    [
        ("+254711000111", "Safaricom", "mpesa"),
        ("+254110000000", "Safaricom", "mpesa"),
        ("+254757000000", "Safaricom", "mpesa"),  # 757 beats Airtel's 75
        ("+254750000000", "Airtel", None),
        ("+254761000000", "Telkom", None),  # 761 beats Airtel's 76
        ("+254768000000", "Safaricom", "mpesa"),
        ("+254744000000", "Homeland Media", None),  # 744 is not Safaricom although 74 is
        ("+254747000000", "JTL", None),
        ("+252611111111", "Hormuud", "evcplus"),
        ("+252631234567", "Telesom", "zaad"),
        ("+252901234567", "Golis Telecom", "sahal"),
        ("+252621234567", "Somtel", "edahab"),
        ("+252681234567", "SomNet", "evcplus"),
        ("+25224123456", "Telesom", "zaad"),  # Telesom's eight-digit range
        ("+252671234567", "Nationlink", None),
    ],
)
def test_the_operator_comes_from_the_carrier_data_and_the_wallet_from_the_registry(number, network, wallet):
    info = phones.detect_network(number)
    assert info is not None and (info.network, info.wallet) == (network, wallet)


def test_a_number_of_no_known_operator_suggests_no_wallet():
    assert phones.detect_network("+254202000000") is None  # a Nairobi fixed line: no carrier data
    assert phones.wallet_for("+254202000000") is None


def test_configured_prefixes_correct_the_carrier_data():
    overrides = phones.operator_prefixes("+2547=Anything, +254711=Somtel, +25261=NewNet")
    assert phones.wallet_for("+254711000111", overrides) == "edahab"  # the longest prefix wins
    info = phones.detect_network("+254721000111", overrides)
    assert info is not None and (info.network, info.wallet) == ("Anything", None)
    assert phones.wallet_for("+252611111111", overrides) is None  # an operator no wallet names
    assert phones.wallet_for("+252631234567", overrides) == "zaad"  # outside them, the carrier data


@pytest.mark.parametrize("bad", ["25261=Hormuud", "+25261", "+2526x=Hormuud", "+25261="])
def test_an_unreadable_prefix_setting_is_refused(bad):
    with pytest.raises(ValueError, match="SMS_OPERATOR_PREFIXES"):
        phones.operator_prefixes(bad)


def test_the_wallet_an_operator_suggests_is_the_registry_s():
    airtel = "+254731000111"
    assert phones.wallet_for(airtel) is None
    spec = WalletSpec("testpay", "Test Pay", {}, "sandbox", frozenset({"KES"}), ("TESTPAY",), networks=("airtel",))
    with wallet_registered(spec):
        assert phones.wallet_for(airtel) == "testpay"
    assert phones.wallet_for(airtel) is None
