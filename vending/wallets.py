"""The wallets koronto takes, declared once as plain data (docs/DESIGN.md rule 13).

Every channel reads this declaration: the USSD menu (names, whole-amount rule), the SMS parser and replies
(keywords), `purchase_create` (currencies, whole amounts), the payment registry (which provider takes the
wallet when it is configured), the model's choices (and so the admin and its filters), the partner API, the
demo's wallet prompt, and the wallet a caller's mobile operator suggests (vending/phones.py). Adding a wallet is
one entry in `WALLETS` plus, if it is new, its provider in
`vending/payments/registry.py`; nothing else lists wallets.

Pure data: no Django, no ORM (only the language codes of vending/i18n.py), so `vending.payments` and the pure
USSD and SMS cores may read it too.
Tests add a wallet of their own with `wallet_registered`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from vending.i18n import DEFAULT_LANGUAGE, LANGUAGES


def same_in_every_language(name: str) -> Mapping[str, str]:
    """A brand name: customers read it the same whatever their language."""
    return dict.fromkeys(LANGUAGES, name)


@dataclass(frozen=True)
class WalletSpec:
    code: str  # stored in Purchase.wallet (10 characters at most) and spoken in the API's JSON
    name: str  # how staff pages and customer notices write it
    labels: Mapping[str, str]  # the USSD menu's words, per language (GSM-7, short)
    provider: str  # the provider that takes it once configured (vending/payments/registry.py); else the sandbox
    currencies: frozenset[str]
    sms_keywords: tuple[str, ...]  # how an SMS names it, in capitals; the first is how our replies write it
    whole_amounts: bool = False  # the wallet takes whole amounts only (M-Pesa: whole shillings)
    prompt_name: str = ""  # how the wallet's own payment prompt brands itself (the demo's simulated prompt)
    # The mobile operators whose subscribers have this wallet, named as SMS routes name them: the first word of
    # the operator's name, lower case ("golis" for libphonenumber's "Golis Telecom"). vending/phones.py finds a
    # number's operator; this says which wallet that suggests.
    networks: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get(DEFAULT_LANGUAGE) or self.name

    @property
    def keyword(self) -> str:
        return self.sms_keywords[0]


# Menu order: the USSD wallet menu and every reply that lists wallets follow it.
WALLETS: tuple[WalletSpec, ...] = (
    WalletSpec(
        code="mpesa",
        name="M-Pesa",
        labels=same_in_every_language("M-Pesa"),
        provider="daraja",
        currencies=frozenset({"KES"}),
        sms_keywords=("MPESA",),
        whole_amounts=True,
        prompt_name="M-PESA",
        networks=("safaricom",),
    ),
    # WaafiPay (Hormuud's gateway) takes EVC Plus, Zaad and Sahal: USD everywhere, SLSH on Zaad.
    WalletSpec(
        code="evcplus",
        name="EVC Plus",
        labels=same_in_every_language("EVC Plus"),
        provider="waafipay",
        currencies=frozenset({"USD"}),
        sms_keywords=("EVC", "EVCPLUS"),
        prompt_name="EVC Plus",
        networks=("hormuud", "somnet"),
    ),
    WalletSpec(
        code="zaad",
        name="Zaad",
        labels=same_in_every_language("Zaad"),
        provider="waafipay",
        currencies=frozenset({"USD", "SLSH"}),
        sms_keywords=("ZAAD",),
        prompt_name="Zaad",
        networks=("telesom",),
    ),
    WalletSpec(
        code="sahal",
        name="Sahal",
        labels=same_in_every_language("Sahal"),
        provider="waafipay",
        currencies=frozenset({"USD"}),
        sms_keywords=("SAHAL",),
        prompt_name="Sahal",
        networks=("golis",),
    ),
    WalletSpec(
        code="edahab",
        name="e-Dahab",
        labels=same_in_every_language("eDahab"),
        provider="edahab",
        currencies=frozenset({"USD", "SLSH"}),
        sms_keywords=("EDAHAB", "DAHAB"),
        prompt_name="eDahab",
        networks=("somtel",),
    ),
)

CODE_LENGTH = 10  # Purchase.wallet's max_length


class _Indexes(NamedTuple):
    by_code: dict[str, WalletSpec]
    by_keyword: dict[str, str]
    by_network: dict[str, str]


def _indexes(wallets: tuple[WalletSpec, ...]) -> _Indexes:
    """Codes, keywords and operators each name one wallet: a clash would make a menu choice, an SMS or the
    wallet a number suggests ambiguous."""
    by_code: dict[str, WalletSpec] = {}
    by_keyword: dict[str, str] = {}
    by_network: dict[str, str] = {}
    for spec in wallets:
        if spec.code in by_code or not 0 < len(spec.code) <= CODE_LENGTH:
            raise ValueError(f"wallet code {spec.code!r} is taken or not 1-{CODE_LENGTH} characters")
        clash = [k for k in spec.sms_keywords if k in by_keyword or not (k.isascii() and k.isalpha() and k.isupper())]
        if clash or not spec.sms_keywords:
            raise ValueError(f"wallet {spec.code!r}: SMS keywords {clash or '(none)'} taken or not capital letters")
        taken = [n for n in spec.networks if n in by_network or not (n.isascii() and n.isalnum() and n.islower())]
        if taken:
            raise ValueError(f"wallet {spec.code!r}: networks {taken} taken or not one lower-case word")
        by_code[spec.code] = spec
        by_keyword.update(dict.fromkeys(spec.sms_keywords, spec.code))
        by_network.update(dict.fromkeys(spec.networks, spec.code))
    return _Indexes(by_code, by_keyword, by_network)


_registered: tuple[WalletSpec, ...] = WALLETS
_by_code, _by_keyword, _by_network = _indexes(WALLETS)


def _install(wallets: tuple[WalletSpec, ...]) -> None:
    global _registered, _by_code, _by_keyword, _by_network
    _by_code, _by_keyword, _by_network = _indexes(wallets)
    _registered = wallets


def wallet_codes() -> tuple[str, ...]:
    return tuple(w.code for w in _registered)


def wallet_spec(code: str) -> WalletSpec | None:
    return _by_code.get(code)


def wallet_name(code: str) -> str:
    """The staff name of a wallet; an unknown code as it is (an old row keeps its value readable)."""
    spec = _by_code.get(code)
    return spec.name if spec else code


def wallet_choices() -> list[tuple[str, str]]:
    """(code, name) pairs: the model field's choices, so the admin's forms and filters follow the registry."""
    return [(w.code, w.name) for w in _registered]


def wallets_for_currency(currency: str) -> list[str]:
    """Wallets that can pay in `currency`, in menu order."""
    return [w.code for w in _registered if currency in w.currencies]


def wallet_for_keyword(word: str) -> str | None:
    """The wallet an SMS keyword names ("EVCPLUS" → "evcplus"); `word` in capitals, letters only."""
    return _by_keyword.get(word)


def wallet_for_network(network: str) -> str | None:
    """The wallet an operator's subscribers have ("hormuud" → "evcplus"); None for an operator we take no
    wallet from. `network` as WalletSpec.networks names it."""
    return _by_network.get(network)


@contextmanager
def wallet_registered(spec: WalletSpec) -> Iterator[WalletSpec]:
    """For tests: `spec` is a wallet (after the others in menu order) until the block ends."""
    before = _registered
    _install((*before, spec))  # refuses a code or keyword some wallet has already
    try:
        yield spec
    finally:
        _install(before)
