"""SMS commands: a parsed command and the sender's phone in, the reply out (docs/DESIGN.md rule 1: thin edge).

Rules that belong to the SMS channel live here; everything else is a service or selector call.

- The sender is the only phone involved: BUY pushes the payment prompt to the sender, TOKEN resends
  only tokens the sender paid for, STATUS shows only the sender's purchases.
- Reply language: an existing customer's `Customer.language` (LANG changes it). A sender we do not
  know yet is answered in the language of a Somali or Swahili keyword (IIBSO → so, NUNUA → sw), else by
  country (+252 → Somali, otherwise English); that language is stored when the customer record is
  first created (by BUY, ADD or LANG).
- Rate limits per phone: COMMANDS_PER_HOUR inbound commands, then one "slow down" reply per window
  and silence; BUYS_PER_HOUR purchases.
- Errors (parse errors and VendingError children) become customer text in one place: `_error_reply`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ussd import sms_texts  # noqa: F401  (registers the SMS catalogue)
from ussd.sms_parser import Command, CommandName, MeterRef, ParseError, parse
from vending import i18n, phones
from vending.exceptions import (
    AmountOutOfRange,
    InvalidTransition,
    MeterBlocked,
    MeterNotVendable,
    PermissionDenied,
    RateLimited,
    UnknownMeter,
    UnsupportedWallet,
    VendingError,
)
from vending.models import Customer, Meter, Purchase, SmsMessage
from vending.models.choices import Channel
from vending.privacy import masked_label
from vending.ratelimit import Limit, hit
from vending.selectors.customers import saved_meters_of_phone
from vending.selectors.history import last_tokens_for_phone, purchase_of_phone, recent_purchases_for_phone
from vending.selectors.meters import meter_by_drn
from vending.services.customers import (
    TooManySavedMeters,
    customer_get_or_create,
    customer_remove_meter,
    customer_save_meter,
    customer_set_language,
)
from vending.services.inbound_sms import InboundAnswer, sms_inbound_answer
from vending.services.purchases import purchase_create
from vending.services.tokens import token_resend
from vending.sms.gsm7 import transliterate
from vending.states import PurchaseState
from vending.tariffs import Quote, format_money
from vending.wallets import wallet_spec, wallets_for_currency

log = logging.getLogger(__name__)

COMMANDS_PER_HOUR = Limit("sms_commands", max_hits=settings.SMS_COMMANDS_PER_HOUR, window_seconds=3600)
SLOW_DOWN_NOTICES = Limit("sms_slow_down_notice", max_hits=1, window_seconds=3600)
BUYS_PER_HOUR = Limit("sms_buys", max_hits=settings.SMS_PURCHASES_PER_HOUR, window_seconds=3600)

_IN_PROGRESS = (PurchaseState.CREATED, PurchaseState.PAYMENT_PENDING, PurchaseState.PAID)
_NAME_CHARS = 20  # meter names shown in a reply are cut so every reply fits one SMS


@dataclass(frozen=True)
class Reply:
    text: str | None  # None: nothing more to send (e.g. TOKEN, whose token SMS is the answer)
    language: str
    purchase: Purchase | None = None
    outcome: str = "ok"  # for the audit trail: which reply this was, never the customer's text


class RateVerdict(StrEnum):
    ALLOWED = "allowed"
    NOTICE = "slow_down"  # over the limit: answer once in this window…
    SILENT = "silent"  # …then stay quiet


@dataclass
class _Context:
    phone: str
    message_id: str
    now: datetime
    keyword_language: str | None
    customer: Customer | None = None
    language: str = "en"
    meter: Meter | None = field(default=None)

    def customer_required(self) -> Customer:
        if self.customer is None:
            self.customer = customer_get_or_create(phone=self.phone, language=self.language)
        return self.customer


class _Answer(Exception):
    """A handler's early answer (unknown alias, meter not saved…), raised to keep handlers flat."""

    def __init__(self, key: str, outcome: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.outcome, self.values = key, outcome, values


# --- language and limits ------------------------------------------------------------------------------


def sms_language(*, phone: str, customer: Customer | None, keyword_language: str | None) -> str:
    if customer is not None:
        return i18n.normalise_language(customer.language)
    if keyword_language in ("so", "sw"):
        return keyword_language
    return "so" if phone.startswith("+252") else "en"


def sms_rate_verdict(*, phone: str, now: datetime) -> RateVerdict:
    seconds = now.timestamp()
    if hit(COMMANDS_PER_HOUR, phone, now_seconds=seconds):
        return RateVerdict.ALLOWED
    if hit(SLOW_DOWN_NOTICES, phone, now_seconds=seconds):
        return RateVerdict.NOTICE
    return RateVerdict.SILENT


# --- the inbound message, end to end -------------------------------------------------------------------


def sms_inbound_handle(*, sms_id: int, now: datetime | None = None) -> SmsMessage:
    """Answer one stored inbound SMS and mark it processed; a processed row is left alone (no second reply)."""
    now = now or timezone.now()

    def answer(inbound: SmsMessage, customer: Customer | None) -> InboundAnswer:
        verdict = sms_rate_verdict(phone=inbound.phone, now=now)
        if verdict == RateVerdict.ALLOWED:
            reply = sms_command_reply(
                text=inbound.text,
                phone=inbound.phone,
                message_id=inbound.provider_message_id or str(inbound.pk),
                now=now,
                customer=customer,
            )
            return InboundAnswer(reply.text, reply.outcome, purchase=reply.purchase)
        lang = sms_language(phone=inbound.phone, customer=customer, keyword_language=None)
        text = i18n.render("sms.slow_down", lang) if verdict == RateVerdict.NOTICE else None
        return InboundAnswer(text, verdict.value)

    return sms_inbound_answer(sms_id=sms_id, answer=answer)


def sms_inbound_give_up(*, sms_id: int) -> None:
    """After an unexpected failure: apologise once and mark the row processed, so AT's sender still hears back."""

    def apology(inbound: SmsMessage, customer: Customer | None) -> InboundAnswer:
        lang = sms_language(phone=inbound.phone, customer=customer, keyword_language=None)
        return InboundAnswer(i18n.render("sms.error.generic", lang), "internal_error", failure_reason="internal_error")

    sms_inbound_answer(sms_id=sms_id, answer=apology)


def sms_command_reply(*, text: str, phone: str, message_id: str, now: datetime, customer: Customer | None) -> Reply:
    """Parse and run one command for `phone`, whose customer row is `customer` (None: none yet); always returns
    a reply (VendingErrors become text)."""
    parsed = parse(text)
    lang = sms_language(phone=phone, customer=customer, keyword_language=parsed.keyword_language)
    ctx = _Context(
        phone=phone,
        message_id=message_id,
        now=now,
        keyword_language=parsed.keyword_language,
        customer=customer,
        language=lang,
    )
    if isinstance(parsed, ParseError):
        return Reply(parse_error_text(parsed, lang), lang, outcome=f"parse_error:{parsed.field}:{parsed.reason}")
    try:
        with transaction.atomic():  # a refused command leaves nothing half-written
            return _HANDLERS[parsed.name](ctx, parsed)
    except _Answer as answer:
        return Reply(i18n.render(answer.key, ctx.language, **answer.values), ctx.language, outcome=answer.outcome)
    except VendingError as exc:
        return _error_reply(exc, ctx)


# --- customer text for errors: the one place ----------------------------------------------------------


MAX_QUOTED = 24  # characters of the customer's words quoted back in a reply


def parse_error_text(error: ParseError, lang: str) -> str:
    key = f"sms.err.{error.field}.{error.reason}"
    if error.command is None or key not in i18n.keys(i18n.DEFAULT_LANGUAGE):
        return i18n.render("sms.unknown", lang)
    # The customer's own words, quoted back: GSM-7 and short, so the reply stays one SMS.
    words = " ".join(transliterate(error.words).split())[:MAX_QUOTED]
    return i18n.render(key, lang, example=_example(error.command, lang), words=words)


def _example(command: CommandName, lang: str) -> str:
    return i18n.render(f"sms.example.{command}", lang)


def _error_reply(exc: VendingError, ctx: _Context) -> Reply:
    lang, meter = ctx.language, ctx.meter
    drn = meter.drn if meter else ""
    outcome = f"error:{exc.code}"
    if isinstance(exc, AmountOutOfRange):
        if exc.message_key:  # the tariff maths says which limit, in every language
            return Reply(i18n.render(exc.message_key, lang, **exc.message_values), lang, outcome=outcome)
        return Reply(i18n.render("sms.error.amount_out_of_range", lang, drn=drn), lang, outcome=outcome)
    if isinstance(exc, UnsupportedWallet) and meter is not None:
        currency = meter.tariff.currency
        return Reply(
            i18n.render(
                "sms.error.unsupported_wallet", lang, drn=drn, currency=currency, wallets=_wallet_list(currency)
            ),
            lang,
            outcome=outcome,
        )
    if isinstance(exc, InvalidTransition) and meter is not None:
        return Reply(i18n.render("sms.token.not_ready", lang, drn=drn), lang, outcome=outcome)
    if isinstance(exc, TooManySavedMeters):
        return Reply(
            i18n.render("sms.add.too_many", lang, example=_example(CommandName.REMOVE, lang)), lang, outcome=outcome
        )
    simple = {
        UnknownMeter: "sms.error.unknown_meter",
        MeterBlocked: "sms.error.meter_blocked",
        MeterNotVendable: "sms.error.not_vendable",
        RateLimited: "sms.error.rate_limited",
        PermissionDenied: "sms.error.permission_denied",
    }
    for kind, key in simple.items():
        if isinstance(exc, kind):
            return Reply(i18n.render(key, lang, drn=drn), lang, outcome=outcome)
    log.warning("SMS command for message %s refused: %s", ctx.message_id, exc.code)
    return Reply(i18n.render("sms.error.generic", lang), lang, outcome=outcome)


# --- helpers -----------------------------------------------------------------------------------------------


def _wallet_keyword(code: str) -> str:
    """How a wallet is written in a command and in our examples (its registry entry's first keyword)."""
    spec = wallet_spec(code)
    return spec.keyword if spec else code.upper()


def _wallet_list(currency: str) -> str:
    return "/".join(_wallet_keyword(w) for w in wallets_for_currency(currency))


def _short(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1].rstrip() + "."


def _resolve_meter(ctx: _Context, ref: MeterRef) -> Meter:
    """A DRN must be registered; an alias must be one of the sender's saved meters (case-blind)."""
    if ref.drn:
        meter = meter_by_drn(drn=ref.drn)
        if meter is None:
            raise _Answer("sms.error.unknown_meter", "unknown_meter", drn=ref.drn)
    else:
        wanted = " ".join(ref.alias.split()).casefold()
        saved = next(
            (s for s in saved_meters_of_phone(phone=ctx.phone) if " ".join(s.alias.split()).casefold() == wanted), None
        )
        if saved is None:
            raise _Answer("sms.alias.unknown", "unknown_alias", alias=ref.alias[:_NAME_CHARS])
        meter = saved.meter
    ctx.meter = meter
    return meter


def _choose_wallet(ctx: _Context, currency: str, asked: str | None) -> str:
    """The wallet named in the SMS, else the one the sender's network suggests, else the only one that fits."""
    allowed = wallets_for_currency(currency)
    if asked:
        if asked not in allowed:
            raise UnsupportedWallet(f"wallet {asked} cannot pay {currency}")
        return asked
    try:
        hint = phones.wallet_for(ctx.phone, phones.operator_prefixes(settings.SMS_OPERATOR_PREFIXES))
    except ValueError:  # not a number we can place (or a prefix setting the system check refuses at start)
        hint = None
    if hint in allowed:
        return str(hint)
    if len(allowed) == 1:
        return allowed[0]
    raise _Answer(
        "sms.buy.need_wallet",
        "need_wallet",
        wallets=_wallet_list(currency),
        wallet=_wallet_keyword(allowed[0]),
        example=_example(CommandName.BUY, ctx.language),
    )


def _idempotency_key(message_id: str) -> str:
    """ "sms:" + AT's message id; a hash of it when that would not fit Purchase.idempotency_key (80)."""
    key = f"sms:{message_id}"
    return key if len(key) <= 80 else "sms:#" + hashlib.sha256(message_id.encode()).hexdigest()[:40]


def _summary(purchase: Purchase, lang: str) -> str:
    """ "KES 500 = 32.8 kWh": the amount and what it buys (the token SMS carries the full breakdown)."""
    try:
        lines = Quote.from_dict(purchase.quote).summary_lines(lang)
    except (KeyError, TypeError, ValueError, ArithmeticError):  # an old or partial quote: the amount will do
        return format_money(Decimal(purchase.amount), purchase.currency)
    return f"{lines[0]} = {lines[-1]}"


# --- the commands -----------------------------------------------------------------------------------------


def _buy(ctx: _Context, cmd: Command) -> Reply:
    assert cmd.meter is not None and cmd.amount is not None
    meter = _resolve_meter(ctx, cmd.meter)
    wallet = _choose_wallet(ctx, meter.tariff.currency, cmd.wallet)
    if not hit(BUYS_PER_HOUR, ctx.phone, now_seconds=ctx.now.timestamp()):
        raise _Answer("sms.buy.too_many", "buy_rate_limited")
    purchase = purchase_create(
        channel=Channel.SMS,
        meter=meter,
        payer_phone=ctx.phone,
        wallet=wallet,
        amount=cmd.amount,
        idempotency_key=_idempotency_key(ctx.message_id),
        customer=ctx.customer_required(),
        language=ctx.language,
        now=ctx.now,
    )
    text = i18n.render(
        "sms.buy.prompt", ctx.language, summary=_summary(purchase, ctx.language), drn=meter.drn, ref=purchase.reference
    )
    return Reply(text, ctx.language, purchase=purchase, outcome="buy")


def _token(ctx: _Context, cmd: Command) -> Reply:
    """Resend the last token for the named meter, or for each of the (at most 3) meters bought for lately."""
    recent = recent_purchases_for_phone(phone=ctx.phone, limit=10)
    if cmd.meter is not None:
        meters = [_resolve_meter(ctx, cmd.meter)]
    else:
        meters = list({p.meter_id: p.meter for p in recent}.values())[:3]
        if not meters:
            raise _Answer("sms.token.none_any", "no_token", example=_example(CommandName.BUY, ctx.language))
    sent = 0
    for meter in meters:
        tokens = last_tokens_for_phone(phone=ctx.phone, meter=meter, limit=1)
        purchase = tokens[0].purchase if tokens else None  # the selector's tokens all have one
        if purchase is not None:
            token_resend(purchase=purchase, phone=ctx.phone)
            sent += 1
    if sent:
        return Reply(None, ctx.language, outcome=f"token_resent:{sent}")
    waiting = next((p for p in recent if p.meter_id in {m.pk for m in meters} and p.state in _IN_PROGRESS), None)
    if waiting is not None:
        raise _Answer("sms.token.not_ready", "token_not_ready", drn=waiting.meter.drn)
    if cmd.meter is None:
        raise _Answer("sms.token.none_any", "no_token", example=_example(CommandName.BUY, ctx.language))
    raise _Answer("sms.token.none", "no_token", drn=meters[0].drn)


def _meters(ctx: _Context, cmd: Command) -> Reply:
    saved = saved_meters_of_phone(phone=ctx.phone)
    if not saved:
        raise _Answer("sms.meters.none", "no_meters", example=_example(CommandName.ADD, ctx.language))
    items = "; ".join(
        f"{_short(s.alias)} {s.meter.drn}" if s.alias else f"{s.meter.drn} ({masked_label(s.meter.label_name)})"
        for s in saved
    )
    return Reply(i18n.render("sms.meters.list", ctx.language, meters=items), ctx.language, outcome="meters")


def _add(ctx: _Context, cmd: Command) -> Reply:
    assert cmd.meter is not None
    meter = _resolve_meter(ctx, cmd.meter)
    saved = customer_save_meter(customer=ctx.customer_required(), meter=meter, alias=cmd.alias)
    name = masked_label(meter.label_name)  # saving a number proves no ownership (vending.privacy)
    if saved.alias:
        text = i18n.render("sms.add.done", ctx.language, drn=meter.drn, name=name, alias=_short(saved.alias))
    else:
        text = i18n.render("sms.add.done_plain", ctx.language, drn=meter.drn, name=name)
    return Reply(text, ctx.language, outcome="added")


def _remove(ctx: _Context, cmd: Command) -> Reply:
    assert cmd.meter is not None
    shown = cmd.meter.drn or _short(cmd.meter.alias)
    if ctx.customer is None:
        raise _Answer("sms.remove.not_saved", "not_saved", meter=shown)
    # By number: any registered meter (not saved → "not saved"); by alias: must be saved.
    meter = meter_by_drn(drn=cmd.meter.drn) if cmd.meter.drn else _resolve_meter(ctx, cmd.meter)
    if meter is None or not customer_remove_meter(customer=ctx.customer, meter=meter):
        raise _Answer("sms.remove.not_saved", "not_saved", meter=shown)
    return Reply(i18n.render("sms.remove.done", ctx.language, drn=meter.drn), ctx.language, outcome="removed")


def _status(ctx: _Context, cmd: Command) -> Reply:
    if cmd.reference:
        # Only this phone's purchases: a reference seen on someone else's receipt tells nothing.
        purchase = purchase_of_phone(reference=cmd.reference, phone=ctx.phone)
        if purchase is None:
            raise _Answer("sms.status.not_found", "not_found", ref=cmd.reference)
    else:
        recent = recent_purchases_for_phone(phone=ctx.phone, limit=1)
        if not recent:
            raise _Answer("sms.status.none", "no_purchase", example=_example(CommandName.BUY, ctx.language))
        purchase = recent[0]
    text = i18n.render(
        "sms.status.line",
        ctx.language,
        ref=purchase.reference,
        amount=format_money(Decimal(purchase.amount), purchase.currency),
        drn=purchase.meter.drn,
        date=timezone.localtime(purchase.created_at).strftime("%d/%m %H:%M"),
        state=i18n.render(f"sms.state.{purchase.state}", ctx.language),
    )
    return Reply(text, ctx.language, outcome=f"status:{purchase.state}")


def _lang(ctx: _Context, cmd: Command) -> Reply:
    customer = customer_set_language(customer=ctx.customer_required(), language=cmd.language)
    ctx.language = customer.language
    return Reply(i18n.render("sms.lang.done", ctx.language), ctx.language, outcome=f"lang:{ctx.language}")


def _help(ctx: _Context, cmd: Command) -> Reply:
    return Reply(i18n.render("sms.help", ctx.language), ctx.language, outcome="help")


_HANDLERS = {
    CommandName.BUY: _buy,
    CommandName.TOKEN: _token,
    CommandName.METERS: _meters,
    CommandName.ADD: _add,
    CommandName.REMOVE: _remove,
    CommandName.STATUS: _status,
    CommandName.LANG: _lang,
    CommandName.HELP: _help,
}

__all__ = ["Reply", "sms_command_reply", "sms_inbound_give_up", "sms_inbound_handle", "sms_language"]
