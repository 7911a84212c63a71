"""The SMS command parser: one customer text in, a Command or a ParseError out (pure: no ORM, no settings).

Customers type on feature phones, so the parser forgives what they do by habit: any case, extra
spaces, USSD-style separators (``BUY*0412...*500``), a keyword glued to the number (``BUY04123456784``),
a keyword in Somali or Swahili, a one-letter slip in a long keyword (``TOKN``), ``O`` typed for ``0``
in a number, and amounts written as ``1,000``, ``KES500``, ``$10`` or ``500/-``. What it cannot read,
it names: the ParseError says which part (command, meter, amount, wallet, language, reference, name)
and why, so the reply can show the right form.

Keywords (the help texts list them per language; English keywords work whatever the language):

    command  English            Somali             Swahili
    BUY      BUY                IIBSO, IIBI        NUNUA
    TOKEN    TOKEN              KOODH              TOKENI
    METERS   METERS             MITIRO             MITA
    ADD      ADD, SAVE          KUDAR (KU DAR)     ONGEZA
    REMOVE   REMOVE, DELETE     KASAAR (KA SAAR)   ONDOA
    STATUS   STATUS             XAALAD             HALI
    LANG     LANG, LANGUAGE     LUQAD              LUGHA
    HELP     HELP, MENU, INFO   CAAWI              MSAADA
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from vending.sts.identity import drn_is_valid
from vending.wallets import wallet_for_keyword


class CommandName(StrEnum):
    BUY = "buy"
    TOKEN = "token"
    METERS = "meters"
    ADD = "add"
    REMOVE = "remove"
    STATUS = "status"
    LANG = "lang"
    HELP = "help"


class Field(StrEnum):
    COMMAND = "command"
    METER = "meter"
    AMOUNT = "amount"
    WALLET = "wallet"
    LANGUAGE = "language"
    REFERENCE = "reference"
    NAME = "name"


class Reason(StrEnum):
    MISSING = "missing"
    UNKNOWN = "unknown"  # a word we do not know (command, wallet, language)
    NOT_DIGITS = "not_digits"
    LENGTH = "length"  # a meter number that is not 11 or 13 digits
    CHECK_DIGIT = "check_digit"
    FORMAT = "format"  # an amount or reference we cannot read
    ZERO = "zero"
    TOO_LONG = "too_long"
    EXTRA = "extra"  # words after a complete command that we cannot place (ParseError.words names them)


@dataclass(frozen=True)
class MeterRef:
    """A meter as the customer named it: a checked DRN, or the alias of a saved meter."""

    drn: str = ""
    alias: str = ""


@dataclass(frozen=True)
class Command:
    name: CommandName
    keyword_language: str | None = None  # "so"/"sw" when the keyword was Somali/Swahili, "en" for English
    meter: MeterRef | None = None
    amount: Decimal | None = None
    wallet: str | None = None
    alias: str = ""  # ADD's name for the meter
    reference: str = ""  # STATUS
    language: str = ""  # LANG's target


@dataclass(frozen=True)
class ParseError:
    field: Field
    reason: Reason
    command: CommandName | None = None
    keyword_language: str | None = None
    words: str = ""  # Reason.EXTRA: the words we did not understand, as the customer typed them


# --- vocabulary -----------------------------------------------------------------------------------

KEYWORDS: dict[str, tuple[CommandName, str]] = {
    "BUY": (CommandName.BUY, "en"),
    "IIBSO": (CommandName.BUY, "so"),
    "IIBI": (CommandName.BUY, "so"),
    "NUNUA": (CommandName.BUY, "sw"),
    "TOKEN": (CommandName.TOKEN, "en"),
    "TOKENS": (CommandName.TOKEN, "en"),
    "KOODH": (CommandName.TOKEN, "so"),
    "TOKENI": (CommandName.TOKEN, "sw"),
    "METERS": (CommandName.METERS, "en"),
    "METER": (CommandName.METERS, "en"),
    "MITIRO": (CommandName.METERS, "so"),
    "MITA": (CommandName.METERS, "sw"),
    "ADD": (CommandName.ADD, "en"),
    "SAVE": (CommandName.ADD, "en"),
    "KUDAR": (CommandName.ADD, "so"),
    "ONGEZA": (CommandName.ADD, "sw"),
    "REMOVE": (CommandName.REMOVE, "en"),
    "DELETE": (CommandName.REMOVE, "en"),
    "KASAAR": (CommandName.REMOVE, "so"),
    "ONDOA": (CommandName.REMOVE, "sw"),
    "STATUS": (CommandName.STATUS, "en"),
    "XAALAD": (CommandName.STATUS, "so"),
    "HALI": (CommandName.STATUS, "sw"),
    "LANG": (CommandName.LANG, "en"),
    "LANGUAGE": (CommandName.LANG, "en"),
    "LUQAD": (CommandName.LANG, "so"),
    "LUGHA": (CommandName.LANG, "sw"),
    "HELP": (CommandName.HELP, "en"),
    "MENU": (CommandName.HELP, "en"),
    "INFO": (CommandName.HELP, "en"),
    "CAAWI": (CommandName.HELP, "so"),
    "MSAADA": (CommandName.HELP, "sw"),
}

# Wallets people name that we do not take: a clear "unknown wallet" beats reading them as a meter name.
OTHER_WALLET_WORDS = frozenset({"AIRTEL", "AIRTELMONEY", "TKASH", "EBIRR", "PREMIER", "MYCASH"})

CURRENCY_WORDS = frozenset(
    {"KES", "KSH", "KSHS", "SH", "SHS", "SHILLINGS", "USD", "DOLLAR", "DOLLARS", "SLSH", "SLS", "$"}
)

LANGUAGE_WORDS: dict[str, str] = {
    "EN": "en",
    "ENG": "en",
    "ENGLISH": "en",
    "INGIRIIS": "en",
    "KIINGEREZA": "en",
    "SO": "so",
    "SOM": "so",
    "SOMALI": "so",
    "SOOMAALI": "so",
    "AFSOOMAALI": "so",
    "KISOMALI": "so",
    "SW": "sw",
    "SWA": "sw",
    "SWAHILI": "sw",
    "KISWAHILI": "sw",
    "SAWAAXILI": "sw",
}

MAX_ALIAS = 30
MAX_AMOUNT = Decimal("10000000")

# Token separators customers use: spaces and the USSD keys, plus punctuation (not "-" or ".", which
# appear inside meter numbers and amounts; "," is handled separately because of "1,000").
_SPLIT = re.compile(r"[\s*#;:/_+|&=]+")
_EDGE_PUNCT = "!?.'\"()[]<>{}-"
_DIGIT_GROUP = re.compile(r"[0-9Oo]*[0-9][0-9Oo]*(?:[-.][0-9Oo]+)*", re.ASCII)
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", re.ASCII)
_REFERENCE = re.compile(r"[A-Z0-9]{4,12}", re.ASCII)
_GLUED = re.compile(r"([A-Za-z]+)([0-9].*)", re.ASCII)


# --- entry point ------------------------------------------------------------------------------------


def parse(text: str) -> Command | ParseError:
    """Read one SMS. Never raises: anything unreadable becomes a ParseError."""
    tokens = tokenise(text)
    if not tokens:
        return ParseError(Field.COMMAND, Reason.MISSING)
    found = _keyword(tokens)
    if found is None:
        return ParseError(Field.COMMAND, Reason.UNKNOWN)
    (name, lang), rest = found
    parser = _PARSERS[name]
    return parser(rest, name, lang)


def _is_decoration(ch: str) -> bool:
    # Emoji, pictographs and their joiners (⚡🙏, 👍🏽): how people sign off, never part of a command.
    return unicodedata.category(ch) in ("So", "Sk", "Cs", "Co", "Me") or ch in "\ufe0f\ufe0e\u200d"


def tokenise(text: str) -> list[str]:
    text = "".join(" " if _is_decoration(ch) else ch for ch in (text or ""))
    text = re.sub(r"/[-=]", " ", text)  # "500/-" and "500/=" are Kenyan ways of writing shillings
    tokens: list[str] = []
    for raw in _SPLIT.split(text):
        for part in _split_commas(raw):
            part = part.strip(_EDGE_PUNCT)
            if part:
                tokens.append(part)
    # A keyword glued to a number: "BUY04123456784" → "BUY", "04123456784".
    if tokens:
        glued = _GLUED.fullmatch(tokens[0])
        if glued and _lookup_keyword(glued.group(1)) is not None:
            tokens[0:1] = [glued.group(1), glued.group(2)]
    return tokens


def _split_commas(raw: str) -> list[str]:
    # "1,000" keeps its comma (thousands); "BUY,0412…,500" is a separator.
    if _THOUSANDS.fullmatch(raw):
        return [raw]
    return raw.split(",")


def _keyword(tokens: list[str]) -> tuple[tuple[CommandName, str], list[str]] | None:
    if len(tokens) >= 2 and _letters(tokens[0]) not in KEYWORDS:  # two-word keywords: "KU DAR", "KA SAAR"
        joined = _lookup_keyword(tokens[0] + tokens[1], exact=True)
        if joined is not None:
            return joined, tokens[2:]
    found = _lookup_keyword(tokens[0])
    return (found, tokens[1:]) if found is not None else None


def _lookup_keyword(word: str, *, exact: bool = False) -> tuple[CommandName, str] | None:
    word = _letters(word)
    if not word:
        return None
    if word in KEYWORDS:
        return KEYWORDS[word]
    if exact:
        return None
    close = {KEYWORDS[k] for k in KEYWORDS if _one_slip(word, k)}
    return close.pop() if len(close) == 1 else None


def _letters(word: str) -> str:
    return "".join(ch for ch in word.upper() if "A" <= ch <= "Z")


def _one_slip(typed: str, keyword: str) -> bool:
    """A typo a thumb makes: a doubled or dropped letter, two letters swapped, or (for words of five
    letters or more) one letter wrong. Short words get no substitutions: BUY is not GUY."""
    if typed == keyword:
        return True
    if len(typed) == len(keyword):
        diffs = [i for i, (a, b) in enumerate(zip(typed, keyword, strict=True)) if a != b]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            i = diffs[0]
            return typed[i] == keyword[i + 1] and typed[i + 1] == keyword[i]
        return len(diffs) == 1 and len(keyword) >= 5
    if abs(len(typed) - len(keyword)) != 1:
        return False
    longer, shorter = (typed, keyword) if len(typed) > len(keyword) else (keyword, typed)
    if len(shorter) < 3 or (len(keyword) < 4 and len(typed) < len(keyword)):
        return False  # "BU" is not BUY
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


# --- pieces -------------------------------------------------------------------------------------------


def _is_number_like(token: str) -> bool:
    return bool(_DIGIT_GROUP.fullmatch(token))


def _digits(token: str) -> str:
    return "".join(ch for ch in token.replace("O", "0").replace("o", "0") if ch not in "-.")


def parse_amount(token: str) -> Decimal | Reason:
    """'500', '1,000', '10.50', 'KES500', '$10', 'ksh.500' → Decimal; otherwise the reason it is not."""
    text = token.upper().replace("O", "0")
    for word in sorted(CURRENCY_WORDS, key=len, reverse=True):
        if text.startswith(word):
            text = text[len(word) :].lstrip(".")
            break
        if text.endswith(word):
            text = text[: -len(word)]
            break
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if not re.fullmatch(r"[0-9]+(?:\.[0-9]{1,2})?", text, re.ASCII):
        return Reason.FORMAT
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above only lets decimals through
        return Reason.FORMAT
    if value <= 0:
        return Reason.ZERO
    if value >= MAX_AMOUNT:
        return Reason.FORMAT
    return value


def parse_meter(tokens: list[str]) -> MeterRef | Reason:
    """A DRN (its digit groups may be split by spaces, dashes or dots) or a saved meter's alias."""
    if not tokens:
        return Reason.MISSING
    if all(_is_number_like(t) for t in tokens):
        drn = "".join(_digits(t) for t in tokens)
        if len(drn) not in (11, 13):
            return Reason.LENGTH
        if not drn_is_valid(drn):
            return Reason.CHECK_DIGIT
        return MeterRef(drn=drn)
    alias = " ".join(tokens)
    if len(alias) > MAX_ALIAS:
        return Reason.TOO_LONG
    return MeterRef(alias=alias)


def _is_word(token: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z-]*", token, re.ASCII))


def _wallet_word(token: str) -> str | None:
    return wallet_for_keyword(_letters(token))


def _take_wallet(tokens: list[str]) -> tuple[list[str], str | None]:
    """Remove the wallet name wherever it is ("EVC PLUS" counts as one); return what is left and the wallet."""
    wallet = None
    kept: list[str] = []
    i = 0
    while i < len(tokens):
        two = tokens[i : i + 2]
        pair = _letters("".join(two)) if len(two) == 2 and all(_is_word(t) for t in two) else ""
        paired = wallet_for_keyword(pair) if pair else None
        if paired is not None:
            wallet = paired
            i += 2
            continue
        single = _wallet_word(tokens[i])
        if single is not None and _is_word(tokens[i]):
            wallet = single
        else:
            kept.append(tokens[i])
        i += 1
    return kept, wallet


# --- commands ------------------------------------------------------------------------------------------


def _parse_buy(rest: list[str], name: CommandName, lang: str) -> Command | ParseError:
    def error(field: Field, reason: Reason) -> ParseError:
        return ParseError(field, reason, name, lang)

    tokens, wallet = _take_wallet(rest)
    tokens = [t for t in tokens if t.upper() not in CURRENCY_WORDS]
    if not tokens:
        return error(Field.METER, Reason.MISSING)
    last = tokens[-1]
    if _letters(last) in OTHER_WALLET_WORDS:
        return error(Field.WALLET, Reason.UNKNOWN)
    # "BUY 0412 345 6784": a meter typed in short groups, with no amount. Only short first groups count,
    # so "BUY 0412345679 200" (a digit short, then the amount) is not read as a 13-digit meter.
    whole_is_meter = (
        all(_is_number_like(t) for t in tokens)
        and len(_digits(tokens[0])) < 8
        and isinstance(parse_meter(tokens), MeterRef)
    )
    tokens, amount_token = _amount_token(tokens)
    amount = parse_amount(amount_token)
    reversed_order = _amount_first(tokens)
    if reversed_order is not None and (
        isinstance(amount, Reason) or not isinstance(parse_meter(tokens[:-1]), MeterRef)
    ):
        first_amount, named_meter = reversed_order
        return Command(name, lang, meter=named_meter, amount=first_amount, wallet=wallet)
    if isinstance(amount, Reason):
        extra = _trailing_words(tokens)
        if extra:  # "BUY 0412… 500 for my mother": a whole command, then words we cannot place
            return ParseError(Field.AMOUNT, Reason.EXTRA, name, lang, words=extra)
        if len(tokens) == 1 and _is_number_like(last) and len(_digits(last)) >= 8:
            return error(Field.AMOUNT, Reason.MISSING)  # a meter number (even a mistyped one) and no amount
        if whole_is_meter or (not _is_number_like(last) and not _has_digit(" ".join(tokens))):
            return error(Field.AMOUNT, Reason.MISSING)  # "BUY 0412 345 6784", "BUY Home"
        if not _is_number_like(last) and len(tokens) >= 2 and not isinstance(parse_amount(tokens[-2]), Reason):
            return error(Field.WALLET, Reason.UNKNOWN)  # "BUY 0412… 500 CASH"
        return error(Field.AMOUNT, amount)
    meter_tokens = tokens[:-1]
    if not meter_tokens:
        # One number only: a meter-sized one means the amount is missing, a small one the meter.
        return error(Field.AMOUNT, Reason.MISSING) if len(_digits(last)) >= 8 else error(Field.METER, Reason.MISSING)
    meter = parse_meter(meter_tokens)
    if isinstance(meter, Reason):
        return error(Field.AMOUNT, Reason.MISSING) if whole_is_meter else error(Field.METER, meter)
    return Command(name, lang, meter=meter, amount=amount, wallet=wallet)


def _trailing_words(tokens: list[str]) -> str:
    """Two or more words after "meter amount" (one word there is read as a wallet we do not take)."""
    for cut in range(len(tokens) - 2, 1, -1):
        head, tail = tokens[:cut], tokens[cut:]
        if any(_is_number_like(t) or _has_digit(t) for t in tail):
            continue
        if isinstance(parse_amount(head[-1]), Decimal) and isinstance(parse_meter(head[:-1]), MeterRef):
            return " ".join(tail)
    return ""


def _amount_first(tokens: list[str]) -> tuple[Decimal, MeterRef] | None:
    """The amount typed before the meter: "BUY 500 Home", "BUY 500 0412 345 6784"."""
    if len(tokens) < 2 or len(_digits(tokens[0])) >= 8:
        return None
    first, meter = parse_amount(tokens[0]), parse_meter(tokens[1:])
    return (first, meter) if isinstance(first, Decimal) and isinstance(meter, MeterRef) else None


def _amount_token(tokens: list[str]) -> tuple[list[str], str]:
    """The amount is the last word; "1 000" (a space as thousands separator) is joined back when the
    words before it still make a good meter number."""
    if (
        len(tokens) >= 3
        and re.fullmatch(r"[0-9]{3}", tokens[-1], re.ASCII)
        and re.fullmatch(r"[0-9]{1,3}", tokens[-2], re.ASCII)
        and isinstance(parse_meter(tokens[:-2]), MeterRef)
    ):
        return [*tokens[:-2], tokens[-2] + tokens[-1]], tokens[-2] + tokens[-1]
    return tokens, tokens[-1]


def _has_digit(text: str) -> bool:
    return any("0" <= ch <= "9" for ch in text)


def _parse_token(rest: list[str], name: CommandName, lang: str) -> Command | ParseError:
    if not rest:
        return Command(name, lang)
    meter = parse_meter(rest)
    if isinstance(meter, Reason):
        return ParseError(Field.METER, meter, name, lang)
    return Command(name, lang, meter=meter)


def _parse_bare(rest: list[str], name: CommandName, lang: str) -> Command | ParseError:
    return Command(name, lang)  # METERS and HELP take nothing; extra words are forgiven


def _parse_add(rest: list[str], name: CommandName, lang: str) -> Command | ParseError:
    # The number usually comes first ("ADD 0412… Home"), but "ADD Home 0412…" is forgiven.
    lead = _leading_numbers(rest)
    trail = _leading_numbers(rest[::-1])
    if lead:
        digits, words = rest[:lead], rest[lead:]
    elif trail:
        digits, words = rest[-trail:], rest[:-trail]
    else:
        return ParseError(Field.METER, Reason.MISSING if not rest else Reason.NOT_DIGITS, name, lang)
    meter = parse_meter(digits)
    if isinstance(meter, Reason):
        return ParseError(Field.METER, meter, name, lang)
    alias = " ".join(words)
    if len(alias) > MAX_ALIAS:
        return ParseError(Field.NAME, Reason.TOO_LONG, name, lang)
    return Command(name, lang, meter=meter, alias=alias)


def _leading_numbers(tokens: list[str]) -> int:
    count = 0
    for token in tokens:
        if not _is_number_like(token):
            break
        count += 1
    return count


def _parse_remove(rest: list[str], name: CommandName, lang: str) -> Command | ParseError:
    meter = parse_meter(rest)
    if isinstance(meter, Reason):
        return ParseError(Field.METER, meter, name, lang)
    return Command(name, lang, meter=meter)


def _parse_status(rest: list[str], name: CommandName, lang: str) -> Command | ParseError:
    if not rest:
        return Command(name, lang)
    reference = "".join(rest).upper()
    if not _REFERENCE.fullmatch(reference):
        return ParseError(Field.REFERENCE, Reason.FORMAT, name, lang)
    return Command(name, lang, reference=reference)


def _parse_lang(rest: list[str], name: CommandName, lang: str) -> Command | ParseError:
    if not rest:
        return ParseError(Field.LANGUAGE, Reason.MISSING, name, lang)
    target = LANGUAGE_WORDS.get(_letters("".join(rest))) or LANGUAGE_WORDS.get(_letters(rest[0]))
    if target is None:
        return ParseError(Field.LANGUAGE, Reason.UNKNOWN, name, lang)
    return Command(name, lang, language=target)


_PARSERS = {
    CommandName.BUY: _parse_buy,
    CommandName.TOKEN: _parse_token,
    CommandName.METERS: _parse_bare,
    CommandName.ADD: _parse_add,
    CommandName.REMOVE: _parse_remove,
    CommandName.STATUS: _parse_status,
    CommandName.LANG: _parse_lang,
    CommandName.HELP: _parse_bare,
}
