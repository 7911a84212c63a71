from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vending.sms import gsm7

GSM_ALPHABET = "".join(sorted(gsm7.BASIC | gsm7.EXTENSION))


def test_plain_text_is_gsm7_and_smart_quotes_are_not():
    assert gsm7.is_gsm7("Token 1234 for KES 500 @ £5 {ok}")
    assert not gsm7.is_gsm7("\u201csmart\u201d")


def test_extension_characters_count_double():
    assert gsm7.septets("abc") == 3
    assert gsm7.septets("€[]") == 6


def test_transliterate_common_non_gsm_characters():
    assert gsm7.transliterate("\u201cHi\u201d \u2014 it\u2019s 5\u2026") == '"Hi" - it\'s 5...'
    assert gsm7.transliterate("Mogadishu caf\u00e1 \u00e7a") == "Mogadishu cafa \u00c7a"
    assert gsm7.transliterate("\u4e2d") == "?"
    assert gsm7.is_gsm7(gsm7.transliterate("\u0160\u00f0\u0142\u2603"))


def test_short_text_is_one_part():
    assert gsm7.split("hello world") == ["hello world"]


def test_long_text_splits_on_spaces_within_160_septets():
    text = " ".join(["word"] * 80)  # 399 characters
    parts = gsm7.split(text)
    assert all(gsm7.septets(p) <= 160 for p in parts)
    assert " ".join(parts) == text
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)


def test_extension_chars_never_overflow_a_part():
    text = "€" * 100  # 200 septets
    parts = gsm7.split(text)
    assert [gsm7.septets(p) for p in parts] == [160, 40]


def test_unbroken_run_is_cut_hard():
    assert [len(p) for p in gsm7.split("x" * 400)] == [160, 160, 80]


def test_split_refuses_non_gsm7():
    with pytest.raises(ValueError):
        gsm7.split("\u201c")


@given(st.text(alphabet=GSM_ALPHABET, max_size=600))
def test_split_parts_fit_and_lose_only_break_whitespace(text):
    parts = gsm7.split(text)
    assert all(0 < gsm7.septets(p) <= 160 for p in parts)
    squeeze = "".join(c for c in text if c not in " \n")
    assert "".join(c for c in "".join(parts) if c not in " \n") == squeeze
