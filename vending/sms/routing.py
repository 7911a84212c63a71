"""Which gateway carries an SMS: a route table read from the environment, and failover along it.

``SMS_ROUTES`` is a list of rules separated by ``;``, the first rule whose destination matches wins::

    SMS_ROUTES="SO/hormuud=hormuud:KORONTO,kannel:KORONTO; SO=kannel:KORONTO; KE=africastalking; *=africastalking"

A destination is ``*`` (anything), a country (``SO``), a country and an operator (``SO/hormuud``) or a
number prefix (``+25261``). On the right, the gateways to try in order, each with an optional sender id
after a colon: the first is the route, the rest its ordered fallback. The operator is the first word of
its name, lower case, from ``SMS_OPERATOR_PREFIXES`` (``+25261=Hormuud,...``, longest prefix wins), else
libphonenumber's carrier data: `vending.phones.operator_of`, the lookup the USSD wallet hint uses too.

Failover: a gateway that refuses the message or cannot take it now hands it to the next one. A gateway
that may have taken it (a read timeout) stops the walk: trying another could text the customer twice.
Every try is one :class:`Attempt` on the result, for the audit and the dashboard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import phonenumbers

from vending import phones
from vending.phones import OperatorPrefixes

from .base import (
    Attempt,
    AttemptOutcome,
    DeliveryReport,
    InvalidDeliveryReport,
    SendResult,
    SmsRejected,
    SmsSender,
    SmsUnavailable,
)

log = logging.getLogger(__name__)


class RouteConfigError(ValueError):
    """SMS_ROUTES or SMS_OPERATOR_PREFIXES cannot be read."""


@dataclass(frozen=True)
class Hop:
    gateway: str
    sender_id: str = ""


@dataclass(frozen=True)
class Rule:
    destination: str  # "*", "SO", "SO/hormuud" or "+25261"
    hops: tuple[Hop, ...]

    def matches(self, *, phone: str, country: str, operator: str) -> bool:
        if self.destination == "*":
            return True
        if self.destination.startswith("+"):
            return phone.startswith(self.destination)
        want_country, _, want_operator = self.destination.partition("/")
        if want_country.upper() != country:
            return False
        return not want_operator or want_operator.lower() == operator

    def route_name(self, hop: Hop) -> str:
        return f"{self.destination}>{hop.gateway}"


def parse_routes(text: str, *, known: Sequence[str]) -> tuple[Rule, ...]:
    """Read SMS_ROUTES; raises RouteConfigError naming the bad part."""
    rules = []
    for chunk in (c.strip() for c in text.split(";")):
        if not chunk:
            continue
        destination, sep, right = (p.strip() for p in chunk.partition("="))
        if not sep or not destination or not right:
            raise RouteConfigError(f"SMS_ROUTES: {chunk!r} is not DESTINATION=GATEWAY[:SENDER],...")
        if not _destination_ok(destination):
            raise RouteConfigError(
                f"SMS_ROUTES: destination {destination!r} is not *, a country, COUNTRY/operator or a +prefix"
            )
        hops = []
        for item in (i.strip() for i in right.split(",")):
            gateway, _, sender_id = (p.strip() for p in item.partition(":"))
            if gateway not in known:
                raise RouteConfigError(f"SMS_ROUTES: unknown gateway {gateway!r} (known: {', '.join(known)})")
            hops.append(Hop(gateway=gateway, sender_id=sender_id))
        rules.append(Rule(destination=destination, hops=tuple(hops)))
    return tuple(rules)


def _destination_ok(destination: str) -> bool:
    country = destination.partition("/")[0]
    if destination == "*":
        return True
    if destination.startswith("+"):
        return destination[1:].isdigit()
    return country.isalpha() and len(country) == 2


def parse_prefixes(text: str) -> OperatorPrefixes:
    """Read SMS_OPERATOR_PREFIXES (``+25261=Hormuud,+25277=Hormuud``)."""
    try:
        return phones.operator_prefixes(text)
    except ValueError as exc:
        raise RouteConfigError(str(exc)) from exc


@lru_cache(maxsize=4096)
def _country_of(phone: str) -> str:
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.region_code_for_number(number) or ""


def destination_of(phone: str, prefixes: OperatorPrefixes) -> tuple[str, str]:
    """(country, operator) of an E.164 number: the operator as routes name it, configured prefixes first."""
    return _country_of(phone), phones.operator_slug(phones.operator_of(phone, prefixes))


class Router(SmsSender):
    """An SmsSender that picks the gateway per destination and fails over along the route."""

    name = "router"

    def __init__(
        self, rules: Sequence[Rule], senders: Callable[[str], SmsSender], prefixes: OperatorPrefixes | None = None
    ) -> None:
        self.rules = tuple(rules)
        self._senders = senders  # gateway name -> its configured sender
        self._prefixes = dict(prefixes or {})

    def plan(self, phone: str) -> tuple[Rule, tuple[Hop, ...]]:
        country, operator = destination_of(phone, self._prefixes)
        for rule in self.rules:
            if rule.matches(phone=phone, country=country, operator=operator):
                return rule, rule.hops
        raise SmsRejected(f"no SMS route for {country or 'unknown country'} {operator or ''}".strip())

    def send(self, to: str, message: str, *, sender_id: str | None = None) -> SendResult:
        rule, hops = self.plan(to)
        attempts: list[Attempt] = []
        refused: SendResult | None = None
        transient = False
        for hop in hops:
            route = rule.route_name(hop)
            try:
                result = self._senders(hop.gateway).send(to, message, sender_id=sender_id or hop.sender_id or None)
            except SmsUnavailable as exc:
                attempts.append(
                    Attempt(route=route, gateway=hop.gateway, outcome=AttemptOutcome.UNAVAILABLE, detail=str(exc)[:200])
                )
                if exc.maybe_sent:
                    # It may be on its way: retry later on this same route, never on another.
                    raise SmsUnavailable(str(exc), maybe_sent=True, attempts=tuple(attempts)) from exc
                transient = True
                continue
            except SmsRejected as exc:  # this gateway is misconfigured for us: the next one may work
                attempts.append(
                    Attempt(route=route, gateway=hop.gateway, outcome=AttemptOutcome.REFUSED, detail=str(exc)[:200])
                )
                continue
            if result.accepted:
                attempts.append(
                    Attempt(
                        route=route,
                        gateway=hop.gateway,
                        outcome=AttemptOutcome.ACCEPTED,
                        detail=result.status[:200],
                        provider_message_id=result.provider_message_id,
                    )
                )
                return _with(result, gateway=hop.gateway, route=route, attempts=tuple(attempts))
            attempts.append(
                Attempt(route=route, gateway=hop.gateway, outcome=AttemptOutcome.REFUSED, detail=result.status[:200])
            )
            transient = transient or result.retryable
            refused = refused or result
        log.warning(
            "sms to %s: no gateway on route %s took it (%d tries)", _masked(to), rule.destination, len(attempts)
        )
        if transient:
            raise SmsUnavailable("no gateway could take the message now", attempts=tuple(attempts))
        last = attempts[-1] if attempts else None
        base = refused or SendResult(to=to, accepted=False, status=last.detail if last else "no gateway")
        return _with(
            base, gateway=last.gateway if last else "", route=last.route if last else "", attempts=tuple(attempts)
        )

    def parse_delivery_report(self, form: Mapping[str, str]) -> DeliveryReport:
        raise InvalidDeliveryReport("delivery reports are read by the gateway that sent the message")


def _with(result: SendResult, *, gateway: str, route: str, attempts: tuple[Attempt, ...]) -> SendResult:
    return replace(result, gateway=gateway, route=route, attempts=attempts)


def _masked(phone: str) -> str:
    return phone[:-4] + "****" if len(phone) > 6 else "****"
