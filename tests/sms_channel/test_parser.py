"""The SMS command parser: pure, forgiving, and never at a loss for words (no database)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ussd.sms_parser import (
    KEYWORDS,
    Command,
    CommandName,
    Field,
    MeterRef,
    ParseError,
    Reason,
    parse,
    parse_amount,
)

DRN = "04123456784"  # valid check digit
DRN13 = "0100000000016"


def buy(text: str) -> Command:
    result = parse(text)
    assert isinstance(result, Command), result
    assert result.name == CommandName.BUY
    return result


@pytest.mark.parametrize(
    ("text", "lang"),
    [("BUY", "en"), ("IIBSO", "so"), ("IIBI", "so"), ("NUNUA", "sw")],
)
def test_buy_keyword_in_each_language(text, lang):
    result = buy(f"{text} {DRN} 500")
    assert (result.meter, result.amount, result.wallet, result.keyword_language) == (
        MeterRef(drn=DRN),
        Decimal("500"),
        None,
        lang,
    )


@pytest.mark.parametrize(
    "text",
    [
        "buy 04123456784 500",
        "  Buy   04123456784    500  ",
        "BUY*04123456784*500",
        "BUY,04123456784,500",
        "BUY#04123456784#500",
        "BUY04123456784 500",
        "BUY 0412-345-6784 500",
        "BUY 0412 345 6784 500",
        "BUY 0412.345.6784 500",
        "BUY 04123456784 5OO",
        "BUY O4123456784 500",
        "BYU 04123456784 500",
        "BUYY 04123456784 500",
        "BUY 04123456784 500.",
        "BUY: 04123456784; 500",
        "BUY 04123456784 KES500",
        "BUY 04123456784 KES 500",
        "BUY 04123456784 Ksh.500",
        "BUY 04123456784 500/-",
        "BUY 04123456784 500/=",
        "buy 04123456784 500 ksh",
        "BUY/04123456784/500",
    ],
)
def test_forgiving_of_case_spaces_separators_and_slips(text):
    result = buy(text)
    assert (result.meter, result.amount) == (MeterRef(drn=DRN), Decimal("500"))


@pytest.mark.parametrize(
    ("token", "amount"),
    [
        ("500", "500"),
        ("1,000", "1000"),
        ("10.50", "10.50"),
        ("10.5", "10.5"),
        ("KES500", "500"),
        ("$10", "10"),
        ("10$", "10"),
        ("USD10", "10"),
        ("12,345,678.5", None),
        ("1,000,000", "1000000"),
        ("sh200", "200"),
    ],
)
def test_amount_forms(token, amount):
    result = parse_amount(token)
    assert result == (Decimal(amount) if amount else Reason.FORMAT)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("0", Reason.ZERO),
        ("0.00", Reason.ZERO),
        ("10.505", Reason.FORMAT),
        ("1,00", Reason.FORMAT),
        ("five", Reason.FORMAT),
        ("-5", Reason.FORMAT),
    ],
)
def test_amounts_that_do_not_parse_say_why(token, reason):
    assert parse_amount(token) == reason


@pytest.mark.parametrize(
    ("text", "wallet"),
    [
        ("BUY 04123456784 500 MPESA", "mpesa"),
        ("BUY 04123456784 500 m-pesa", "mpesa"),
        ("BUY 04123456784 500 M PESA", "mpesa"),
        ("BUY 04123456784 MPESA 500", "mpesa"),
        ("IIBSO 0100000000016 10 EVC", "evcplus"),
        ("IIBSO 0100000000016 10 evc plus", "evcplus"),
        ("IIBSO 0100000000016 $10 EVCPLUS", "evcplus"),
        ("BUY 0100000000016 10 zaad", "zaad"),
        ("BUY 0100000000016 10 Sahal", "sahal"),
    ],
)
def test_optional_wallet_anywhere(text, wallet):
    assert buy(text).wallet == wallet


def test_meter_by_alias_even_with_spaces():
    result = buy("BUY my shop 1,000 zaad")
    assert (result.meter, result.amount, result.wallet) == (MeterRef(alias="my shop"), Decimal("1000"), "zaad")


@pytest.mark.parametrize(
    ("text", "meter"),
    [
        ("BUY 500 Home", MeterRef(alias="Home")),
        ("BUY KES500 04123456784", MeterRef(drn=DRN)),
        ("NUNUA 500 0412 345 6784 mpesa", MeterRef(drn=DRN)),
    ],
)
def test_amount_before_the_meter(text, meter):
    result = buy(text)
    assert (result.meter, result.amount) == (meter, Decimal("500"))


def test_thirteen_digit_meter_and_space_as_thousands_separator():
    result = buy(f"NUNUA {DRN13} 1 000")
    assert (result.meter, result.amount) == (MeterRef(drn=DRN13), Decimal("1000"))


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("BUY", Field.METER, Reason.MISSING),
        ("BUY 500", Field.METER, Reason.MISSING),
        ("BUY 04123456784", Field.AMOUNT, Reason.MISSING),
        ("BUY 0412 345 6784", Field.AMOUNT, Reason.MISSING),
        ("BUY Home", Field.AMOUNT, Reason.MISSING),
        ("BUY 04123456785 500", Field.METER, Reason.CHECK_DIGIT),
        ("BUY 0412345678 500", Field.METER, Reason.LENGTH),
        ("BUY 041234567841 500", Field.METER, Reason.LENGTH),
        ("BUY 04123456784 0", Field.AMOUNT, Reason.ZERO),
        ("BUY 04123456784 10.505", Field.AMOUNT, Reason.FORMAT),
        ("BUY 04123456784 5x00", Field.AMOUNT, Reason.FORMAT),
        ("BUY 04123456784 500 AIRTEL", Field.WALLET, Reason.UNKNOWN),
        ("BUY 04123456784 500 cash", Field.WALLET, Reason.UNKNOWN),
        ("BUY a-name-that-is-far-too-long-for-a-meter 500", Field.METER, Reason.TOO_LONG),
    ],
)
def test_buy_errors_name_the_part(text, field, reason):
    result = parse(text)
    assert isinstance(result, ParseError)
    assert (result.command, result.field, result.reason) == (CommandName.BUY, field, reason)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TOKEN", Command(CommandName.TOKEN, "en")),
        ("tokn", Command(CommandName.TOKEN, "en")),
        ("KOODH 04123456784", Command(CommandName.TOKEN, "so", meter=MeterRef(drn=DRN))),
        ("tokeni home", Command(CommandName.TOKEN, "sw", meter=MeterRef(alias="home"))),
        ("METERS", Command(CommandName.METERS, "en")),
        ("metres", Command(CommandName.METERS, "en")),
        ("Mitiro", Command(CommandName.METERS, "so")),
        ("mita", Command(CommandName.METERS, "sw")),
        ("ADD 04123456784 Home", Command(CommandName.ADD, "en", meter=MeterRef(drn=DRN), alias="Home")),
        ("add Home 0412 345 6784", Command(CommandName.ADD, "en", meter=MeterRef(drn=DRN), alias="Home")),
        ("ku dar 04123456784 Guri", Command(CommandName.ADD, "so", meter=MeterRef(drn=DRN), alias="Guri")),
        ("ONGEZA 04123456784", Command(CommandName.ADD, "sw", meter=MeterRef(drn=DRN))),
        ("REMOVE shop", Command(CommandName.REMOVE, "en", meter=MeterRef(alias="shop"))),
        ("KA SAAR 04123456784", Command(CommandName.REMOVE, "so", meter=MeterRef(drn=DRN))),
        ("ondoa 04123456784", Command(CommandName.REMOVE, "sw", meter=MeterRef(drn=DRN))),
        ("STATUS", Command(CommandName.STATUS, "en")),
        ("status nlj7rt61sv", Command(CommandName.STATUS, "en", reference="NLJ7RT61SV")),
        ("XAALAD NLJ7RT61SV", Command(CommandName.STATUS, "so", reference="NLJ7RT61SV")),
        ("hali NLJ7 RT61 SV", Command(CommandName.STATUS, "sw", reference="NLJ7RT61SV")),
        ("LANG SW", Command(CommandName.LANG, "en", language="sw")),
        ("language english", Command(CommandName.LANG, "en", language="en")),
        ("LUQAD Af-Soomaali", Command(CommandName.LANG, "so", language="so")),
        ("lugha kiswahili", Command(CommandName.LANG, "sw", language="sw")),
        ("HELP", Command(CommandName.HELP, "en")),
        ("help!", Command(CommandName.HELP, "en")),
        ("CAAWI", Command(CommandName.HELP, "so")),
        ("msaada tafadhali", Command(CommandName.HELP, "sw")),
    ],
)
def test_other_commands(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "command", "field", "reason"),
    [
        ("ADD", CommandName.ADD, Field.METER, Reason.MISSING),
        ("ADD Home", CommandName.ADD, Field.METER, Reason.NOT_DIGITS),
        ("ADD 04123456785 Home", CommandName.ADD, Field.METER, Reason.CHECK_DIGIT),
        ("ADD 04123456784 a name that is much too long to keep", CommandName.ADD, Field.NAME, Reason.TOO_LONG),
        ("REMOVE", CommandName.REMOVE, Field.METER, Reason.MISSING),
        ("TOKEN 123", CommandName.TOKEN, Field.METER, Reason.LENGTH),
        ("STATUS ab", CommandName.STATUS, Field.REFERENCE, Reason.FORMAT),
        ("LANG", CommandName.LANG, Field.LANGUAGE, Reason.MISSING),
        ("LANG french", CommandName.LANG, Field.LANGUAGE, Reason.UNKNOWN),
    ],
)
def test_other_errors_name_the_part(text, command, field, reason):
    assert parse(text) == ParseError(field, reason, command, parse(text).keyword_language)


@pytest.mark.parametrize("text", ["", "   ", "hello", "04123456784 500", "BU 04123456784 500", "GUY 0412 500", "?"])
def test_anything_else_is_an_unknown_command(text):
    result = parse(text)
    assert isinstance(result, ParseError)
    assert (result.command, result.field) == (None, Field.COMMAND)


def test_every_keyword_parses_to_its_own_command():
    for word, (name, lang) in KEYWORDS.items():
        result = parse(word)
        got = result.command if isinstance(result, ParseError) else result.name
        assert (got, result.keyword_language) == (name, lang), word


def test_unicode_digits_are_not_meter_digits():
    # Arabic-Indic digits are digits to Python's str.isdigit, but no meter number is written with them.
    result = buy("BUY ٠٤١٢٣٤٥٦٧٨٤ 500")
    assert result.meter == MeterRef(alias="٠٤١٢٣٤٥٦٧٨٤")


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_gives_a_command_or_a_parse_error(text):
    assert isinstance(parse(text), Command | ParseError)


_WORDS = st.sampled_from(
    [
        *KEYWORDS,
        DRN,
        DRN13,
        "500",
        "1,000",
        "$10",
        "MPESA",
        "EVC",
        "plus",
        "Home",
        "0",
        ",",
        "*",
        "#",
        "KES",
        "10.5",
        "abc",
        "O",
        "-",
        "/-",
        "  ",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, max_size=8), st.sampled_from([" ", "*", ",", "  ", "#"]))
def test_any_command_shaped_text_gives_a_command_or_a_parse_error(words, sep):
    result = parse(sep.join(words))
    assert isinstance(result, Command | ParseError)
    if isinstance(result, Command) and result.name == CommandName.BUY:
        assert result.amount > 0 and (result.meter.drn or result.meter.alias)


@pytest.mark.parametrize(
    "text",
    [
        "BUY 04123456784 100 ⚡🙏",
        "BUY 04123456784 100 👍🏽",
        "⚡ BUY 04123456784 100 EVC 🙏",
    ],
)
def test_emoji_are_decoration_not_words(text):
    result = parse(text)
    assert isinstance(result, Command), result
    assert (result.meter, result.amount) == (MeterRef(drn="04123456784"), Decimal("100"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("BUY 04123456784 500 for my mother", "for my mother"),
        ("BUY Home 500 please thank you", "please thank you"),
        ("IIBSO 0100000000016 10 waad mahadsantahay", "waad mahadsantahay"),
    ],
)
def test_words_after_a_whole_buy_are_named_not_read_as_the_amount(text, words):
    result = parse(text)
    assert isinstance(result, ParseError)
    assert (result.field, result.reason, result.words) == (Field.AMOUNT, Reason.EXTRA, words)
