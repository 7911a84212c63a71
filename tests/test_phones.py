from __future__ import annotations

import pytest

from vending import phones


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
        ("+254744000000", "Other", None),  # 744 is not Safaricom although 74 is
        ("+252611111111", "Hormuud", "evcplus"),
        ("+252631234567", "Telesom", "zaad"),
        ("+252901234567", "Golis", "sahal"),
        ("+252621234567", "Somtel", "edahab"),
    ],
)
def test_longest_prefix_wins(number, network, wallet):
    info = phones.detect_network(number)
    assert info is not None and (info.network, info.wallet) == (network, wallet)


def test_prefix_table_comes_from_config():
    table = {"254": {"7": ("Anything", "mpesa"), "71": ("Custom", None)}}
    assert phones.wallet_for("+254711000111", table) is None
    assert phones.wallet_for("+254721000111", table) == "mpesa"
    assert phones.detect_network("+252611111111", table) is None
