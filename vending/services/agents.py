"""Agents' float, keys and sales: every write of the partner API and of the agent back office.

Rules that hold here, whatever the caller:
- Every float movement and every sale of one agent happens under a lock on that agent's row, taken
  first (before the purchase and meter rows the vend locks), so the balance check and the debit cannot
  interleave: the float never goes below minus the credit limit, however many terminals sell at once.
- A float purchase is one transaction: the float debit, the purchase, its payment, the token (made by
  `token_issue_locked`, the vend every channel uses) and the stored response commit together or not at all.
- (agent, client id) is unique. A repeat with the same request fingerprint gets the stored response, byte
  for byte; with another fingerprint it is refused (DuplicateRecord). Refused requests store nothing, so
  the client may retry the same id after, say, a top-up.
"""

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from vending.exceptions import VendingError
from vending.models import (
    Agent,
    AgentSale,
    AgentTerminal,
    ApiKey,
    CommissionRule,
    FaultReport,
    FloatEntry,
    Meter,
    Payment,
    Purchase,
    Token,
    TokenVoid,
)
from vending.models.agents import FLOAT_PROVIDER, FLOAT_WALLET, ApiScope
from vending.models.choices import Channel
from vending.selectors.agents import balance_locked
from vending.selectors.meter_status import meter_vend_check
from vending.selectors.quotes import purchase_quote
from vending.services.audit import audit_record
from vending.services.purchases import new_reference, purchase_create
from vending.services.transitions import transition
from vending.states import PaymentState, PurchaseState

KEY_PREFIX = "kor_"
_CENT = Decimal("0.01")


# -- errors (each carries the stable code the API answers with) ----------------------------------------


class AgentError(VendingError):
    code = "AGENT_ERROR"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
        self.field = field


def refuse_unless_vendable(*, meter: Meter, now: datetime | None = None) -> None:
    """AgentError with the API's code unless `meter` can be vended now (before any float or wallet is touched)."""
    check = meter_vend_check(meter=meter, now=now)
    if not check.can_vend:
        raise AgentError(check.reason, code=check.code, field="meter")


class DuplicateRecord(AgentError):
    code = "DUPLICATE_RECORD"


class LimitExceeded(AgentError):
    code = "LIMIT_EXCEEDED"


class AgentSuspended(AgentError):
    code = "AGENT_SUSPENDED"


class SaleRefused(AgentError):
    """A confirmation or reversal the sale's state does not allow (code says which rule)."""

    code = "REVERSAL_NOT_ALLOWED"


# -- keys -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str  # shown once to the person who made it; never stored, never logged


def key_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_key_create(*, terminal: AgentTerminal, scopes: list[str] | None = None, actor: User | None = None) -> IssuedKey:
    chosen = sorted(set(scopes if scopes is not None else ApiScope.values))
    unknown = set(chosen) - set(ApiScope.values)
    if unknown:
        raise AgentError(f"unknown scopes: {', '.join(sorted(unknown))}", code="VALIDATION_ERROR", field="scopes")
    prefix = secrets.token_hex(4)
    plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        api_key = ApiKey.objects.create(terminal=terminal, prefix=prefix, key_hash=key_hash(plaintext), scopes=chosen)
        audit_record(
            action="api_key.created",
            obj=api_key,
            actor=actor,
            data={"prefix": prefix, "scopes": chosen, "terminal": terminal.pk},
        )
    return IssuedKey(api_key=api_key, plaintext=plaintext)


def api_key_revoke(*, api_key: ApiKey, actor: User | None = None, now: datetime | None = None) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked_at is None:
            api_key.revoked_at = now or timezone.now()
            api_key.save(update_fields=["revoked_at"])
            audit_record(action="api_key.revoked", obj=api_key, actor=actor, data={"prefix": api_key.prefix})
    return api_key


def agent_create(
    *,
    name: str,
    currency: str,
    opening_float: Decimal = Decimal("0"),
    credit_limit: Decimal = Decimal("0"),
    terminal_name: str = "Terminal 1",
    actor: User | None = None,
) -> tuple[Agent, IssuedKey]:
    """An agent with one terminal, a key with every scope, and the opening float as its first top-up."""
    if credit_limit < 0 or opening_float < 0:
        raise AgentError("The float and the credit limit cannot be negative.", code="VALIDATION_ERROR")
    with transaction.atomic():
        agent = Agent.objects.create(name=name, currency=currency, credit_limit=credit_limit)
        audit_record(
            action="agent.created",
            obj=agent,
            actor=actor,
            data={"currency": currency, "credit_limit": str(credit_limit)},
        )
        terminal = AgentTerminal.objects.create(agent=agent, name=terminal_name)
        issued = api_key_create(terminal=terminal, actor=actor)
        if opening_float > 0:
            float_topup(agent=agent, amount=opening_float, reference="opening float", actor=actor)
    return agent, issued


# -- the float ----------------------------------------------------------------------------------------


def _entry_locked(
    *,
    agent: Agent,
    kind: str,
    amount: Decimal,
    sale: AgentSale | None = None,
    reference: str = "",
    actor: User | None = None,
) -> FloatEntry:
    """Append a ledger entry; the caller holds the lock on the agent's row."""
    balance = balance_locked(agent_id=agent.pk)
    return FloatEntry.objects.create(
        agent=agent,
        kind=kind,
        amount=amount,
        balance_after=balance + amount,
        sale=sale,
        reference=reference[:80],
        created_by=actor,
    )


def float_topup(
    *,
    agent: Agent,
    amount: Decimal,
    reference: str,
    actor: User | None = None,
    kind: str = FloatEntry.Kind.TOPUP,
) -> FloatEntry:
    """Money the agent paid in (or a signed adjustment). The back office checks the finance role first."""
    amount = Decimal(amount)
    if kind == FloatEntry.Kind.TOPUP and amount <= 0:
        raise AgentError("A top-up must be a positive amount.", code="VALIDATION_ERROR", field="amount")
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        entry = _entry_locked(agent=agent, kind=kind, amount=amount, reference=reference, actor=actor)
        audit_record(
            action=f"float.{kind}",
            obj=agent,
            actor=actor,
            reason=reference[:255],
            data={"amount": str(amount), "balance_after": str(entry.balance_after), "entry": entry.pk},
        )
    return entry


def agent_set_status(*, agent: Agent, status: str, actor: User | None, reason: str) -> Agent:
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        if agent.status != status:
            before = agent.status
            agent.status = status
            agent.save(update_fields=["status"])
            audit_record(
                action=f"agent.{status}",
                obj=agent,
                actor=actor,
                reason=reason[:255],
                before={"status": before},
                after={"status": status},
            )
    return agent


def agent_set_credit_limit(*, agent: Agent, credit_limit: Decimal, actor: User | None, reason: str) -> Agent:
    """A new credit limit, under the agent's lock: a sale in flight checks either the old or the new one."""
    if credit_limit < 0:
        raise AgentError("A credit limit cannot be negative.", code="VALIDATION_ERROR", field="credit_limit")
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        before = agent.credit_limit
        if before != credit_limit:
            agent.credit_limit = credit_limit
            agent.save(update_fields=["credit_limit"])
            audit_record(
                action="agent.credit_limit",
                obj=agent,
                actor=actor,
                reason=reason[:255],
                before={"credit_limit": str(before)},
                after={"credit_limit": str(credit_limit)},
            )
    return agent


def commission_for(*, agent: Agent, utility_id: int, amount: Decimal, kwh: Decimal) -> Decimal:
    rule = CommissionRule.objects.filter(agent=agent, utility_id=utility_id).first()
    if rule is None:
        return Decimal("0.00")
    base = amount * rule.rate / 100 if rule.basis == CommissionRule.Basis.PERCENT else kwh * rule.rate
    return base.quantize(_CENT, rounding=ROUND_HALF_UP)


# -- sales ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaleRequest:
    """A purchase request as the API validated it; `fingerprint` identifies its body."""

    client_id: uuid.UUID
    meter: Meter
    amount: Decimal
    currency: str
    customer_phone: str
    method: str
    wallet: str = ""
    payer_phone: str = ""

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(
            {
                "id": str(self.client_id),
                "meter": self.meter.drn,
                "amount": f"{self.amount:.2f}",
                "currency": self.currency,
                "customer_phone": self.customer_phone,
                "method": self.method,
                "wallet": self.wallet,
                "phone": self.payer_phone,
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


# Renders the response a sale answers with; called once, inside the sale's transaction, and stored.
Render = Callable[[AgentSale, list[Token]], dict[str, Any]]


def _replay(*, agent: Agent, request: SaleRequest) -> AgentSale | None:
    sale = AgentSale.objects.filter(agent=agent, client_id=request.client_id).first()
    if sale is not None and sale.fingerprint != request.fingerprint:
        raise DuplicateRecord("This id was already used for a different request.", field="id")
    return sale


def _lock_agent(terminal: AgentTerminal) -> Agent:
    return Agent.objects.select_for_update().get(pk=terminal.agent_id)


def _store(*, sale: AgentSale, body: dict[str, Any]) -> AgentSale:
    sale.response_body = json.dumps(body, separators=(",", ":"))
    sale.save()
    return sale


def sale_create(
    *, terminal: AgentTerminal, request: SaleRequest, render: Render, now: datetime | None = None
) -> AgentSale:
    """Start (or replay) a sale: float purchases vend at once, mobile money goes to the push pipeline."""
    now = now or timezone.now()
    try:
        if request.method == AgentSale.Method.FLOAT:
            return _float_sale(terminal=terminal, request=request, render=render, now=now)
        return _mobile_money_sale(terminal=terminal, request=request, render=render, now=now)
    except IntegrityError:
        # A backstop: the agent lock (Postgres) or the single writer (SQLite) keeps two requests with one id
        # apart, but should one ever slip past, the unique (agent, client id) refuses it: answer as a replay.
        replay = _replay(agent=terminal.agent, request=request)
        if replay is None:
            raise
        return replay


def _checked_agent(terminal: AgentTerminal, request: SaleRequest) -> tuple[Agent, AgentSale | None]:
    agent = _lock_agent(terminal)
    replay = _replay(agent=agent, request=request)
    if replay is None and agent.status != Agent.Status.ACTIVE:
        raise AgentSuspended("This agent is suspended; no sales are possible.")
    if replay is None and request.currency != agent.currency:
        raise AgentError(f"This agent sells in {agent.currency}.", code="CURRENCY_MISMATCH", field="currency")
    return agent, replay


def amount_check(*, meter: Meter, amount: Decimal) -> None:
    tariff = meter.tariff
    if amount < tariff.min_purchase:
        raise AgentError(
            f"The smallest purchase for this meter is {tariff.min_purchase:.2f} {tariff.currency}.",
            code="AMOUNT_TOO_LOW",
            field="amount",
        )
    if amount > tariff.max_purchase:
        raise AgentError(
            f"The largest purchase for this meter is {tariff.max_purchase:.2f} {tariff.currency}.",
            code="AMOUNT_TOO_HIGH",
            field="amount",
        )


def _float_sale(*, terminal: AgentTerminal, request: SaleRequest, render: Render, now: datetime) -> AgentSale:
    from vending.services.sms import token_sms_send
    from vending.services.tokens import token_issue_locked

    meter, amount = request.meter, request.amount
    with transaction.atomic():
        agent, replay = _checked_agent(terminal, request)
        if replay is not None:
            return replay
        refuse_unless_vendable(meter=meter, now=now)
        amount_check(meter=meter, amount=amount)
        quote = purchase_quote(meter=meter, amount=amount, now=now)  # AmountOutOfRange
        balance = balance_locked(agent_id=agent.pk)
        if balance - amount < -agent.credit_limit:
            raise LimitExceeded(
                f"Not enough float: balance {balance:.2f}, credit limit {agent.credit_limit:.2f}, "
                f"asked {amount:.2f} {agent.currency}.",
                field="amount",
            )
        # Born paid: the float debit below commits with these rows, so no one can ever see the purchase
        # unpaid and there is no move to make (the USSD path's CREATED → PAID steps would be two more writes
        # and audit rows per sale). From PAID on, the usual transitions apply: the vend, then DELIVERED.
        purchase = Purchase.objects.create(
            reference=new_reference(),
            idempotency_key=f"agent:{agent.pk}:{request.client_id}",
            channel=Channel.API,
            meter=meter,
            payer_phone=request.customer_phone,
            wallet=FLOAT_WALLET,
            amount=amount,
            currency=request.currency,
            quote=quote.to_dict(),
            fixed_charge=quote.fixed_charge,
            state=PurchaseState.PAID,
        )
        Payment.objects.create(
            purchase=purchase,
            provider=FLOAT_PROVIDER,
            amount_requested=amount,
            amount_confirmed=amount,
            state=PaymentState.CONFIRMED,
        )
        audit_record(
            action="purchase.created",
            obj=purchase,
            actor_label=f"agent:{agent.pk}/terminal:{terminal.pk}",
            after={"state": PurchaseState.PAID, "payment": PaymentState.CONFIRMED},
            data={
                "channel": Channel.API,
                "wallet": FLOAT_WALLET,
                "amount": str(amount),
                "terminal": terminal.pk,
                "client_id": str(request.client_id),
                "balance_before": str(balance),
            },
        )
        tokens = token_issue_locked(purchase=purchase, now=now)
        sale = AgentSale(
            agent=agent,
            terminal=terminal,
            client_id=request.client_id,
            fingerprint=request.fingerprint,
            method=AgentSale.Method.FLOAT,
            purchase=purchase,
            amount=amount,
            currency=request.currency,
            commission=commission_for(
                agent=agent, utility_id=meter.tariff.utility_id, amount=amount, kwh=Decimal(quote.kwh)
            ),
            status_code=201,
        )
        _store(sale=sale, body=render(sale, tokens))
        FloatEntry.objects.create(
            agent=agent,
            kind=FloatEntry.Kind.SALE,
            amount=-amount,
            balance_after=balance - amount,
            sale=sale,
            reference=purchase.reference,
        )
        if request.customer_phone:
            token_sms_send(purchase=purchase, phone=request.customer_phone, tokens=tokens)
        # The agent has the token in this response: the purchase is delivered (no SMS resend sweep).
        transition(purchase, PurchaseState.DELIVERED, reason="token returned in the API response", locked=True)
    return sale


def _mobile_money_sale(*, terminal: AgentTerminal, request: SaleRequest, render: Render, now: datetime) -> AgentSale:
    with transaction.atomic():
        agent, replay = _checked_agent(terminal, request)
        if replay is not None:
            return replay
        refuse_unless_vendable(meter=request.meter, now=now)
        amount_check(meter=request.meter, amount=request.amount)
        # The USSD channel's own entry point: same validation, same push task on commit, same pipeline.
        purchase = purchase_create(
            channel=Channel.API,
            meter=request.meter,
            payer_phone=request.payer_phone,
            wallet=request.wallet,
            amount=request.amount,
            idempotency_key=f"agent:{agent.pk}:{request.client_id}",
            now=now,
        )
        sale = AgentSale(
            agent=agent,
            terminal=terminal,
            client_id=request.client_id,
            fingerprint=request.fingerprint,
            method=AgentSale.Method.MOBILE_MONEY,
            purchase=purchase,
            amount=request.amount,
            currency=request.currency,
            commission=commission_for(
                agent=agent,
                utility_id=request.meter.tariff.utility_id,
                amount=request.amount,
                kwh=Decimal(purchase.quote["kwh"]),
            ),
            status_code=202,
        )
        _store(sale=sale, body=render(sale, []))
    return sale


def _locked_sale(*, agent: Agent, client_id: uuid.UUID) -> AgentSale:
    sale = AgentSale.objects.select_for_update().filter(agent=agent, client_id=client_id).first()
    if sale is None:
        raise AgentError("No purchase with this id for this agent.", code="NOT_FOUND")
    return sale


def sale_confirm(*, terminal: AgentTerminal, client_id: uuid.UUID, now: datetime | None = None) -> AgentSale:
    """The agent handed the token over. Idempotent; refused after a reversal or before there is a token."""
    with transaction.atomic():
        agent = _lock_agent(terminal)
        sale = _locked_sale(agent=agent, client_id=client_id)
        if sale.confirmed_at is not None:
            return sale
        if sale.reversed_at is not None:
            raise SaleRefused("This purchase was reversed; it cannot be confirmed.", code="ALREADY_REVERSED")
        if not sale.purchase.tokens.filter(kind=Token.Kind.CREDIT).exists():
            raise SaleRefused("This purchase has no token yet.", code="NOT_COMPLETED")
        sale.confirmed_at = now or timezone.now()
        sale.save(update_fields=["confirmed_at"])
        audit_record(
            action="agent_sale.confirmed",
            obj=sale,
            purchase_id=sale.purchase_id,
            actor_label=f"agent:{agent.pk}/terminal:{terminal.pk}",
        )
    return sale


def sale_reverse(
    *, terminal: AgentTerminal, client_id: uuid.UUID, reason: str = "", now: datetime | None = None
) -> AgentSale:
    """Void the token and give the float back: float sales only, before confirmation, within the window.

    A repeat returns the reversed sale unchanged (one void, one refund entry: the unique constraints).
    """
    now = now or timezone.now()
    window = timedelta(seconds=settings.API_REVERSAL_WINDOW_SECONDS)
    with transaction.atomic():
        agent = _lock_agent(terminal)
        sale = _locked_sale(agent=agent, client_id=client_id)
        if sale.reversed_at is not None:
            return sale
        if sale.method != AgentSale.Method.FLOAT:
            raise SaleRefused("Only float purchases can be reversed here.", code="REVERSAL_NOT_ALLOWED")
        if sale.confirmed_at is not None:
            raise SaleRefused("This purchase was confirmed; it can no longer be reversed.", code="ALREADY_CONFIRMED")
        if now - sale.created_at > window:
            raise SaleRefused(
                f"Reversals are possible for {settings.API_REVERSAL_WINDOW_SECONDS} seconds after the purchase.",
                code="REVERSAL_WINDOW_CLOSED",
            )
        why = (reason or "reversed by the agent")[:200]
        purchase = Purchase.objects.select_for_update().get(pk=sale.purchase_id)
        payment = Payment.objects.select_for_update().get(purchase=purchase)
        transition(
            purchase,
            PurchaseState.REFUNDED,
            reason=f"reversal: {why}",
            locked=True,
            actor_label=f"agent:{agent.pk}/terminal:{terminal.pk}",
        )
        transition(payment, PaymentState.REFUNDED, reason="float refunded", locked=True)
        for token in purchase.tokens.filter(kind=Token.Kind.CREDIT):
            TokenVoid.objects.create(token=token, sale=sale, reason=why)
        _entry_locked(
            agent=agent, kind=FloatEntry.Kind.REVERSAL, amount=sale.amount, sale=sale, reference=purchase.reference
        )
        sale.reversed_at = now
        sale.save(update_fields=["reversed_at"])
        audit_record(
            action="agent_sale.reversed",
            obj=sale,
            purchase=purchase,
            reason=why,
            actor_label=f"agent:{agent.pk}/terminal:{terminal.pk}",
            data={"amount": str(sale.amount)},
        )
    return sale


def fault_report(
    *,
    terminal: AgentTerminal,
    meter_number: str,
    kind: str,
    meter_message: str = "",
    description: str = "",
    client_id: uuid.UUID | None = None,
) -> FaultReport:
    purchase = None
    if client_id is not None:
        sale = AgentSale.objects.filter(agent_id=terminal.agent_id, client_id=client_id).first()
        purchase = sale.purchase if sale else None
    with transaction.atomic():
        fault = FaultReport.objects.create(
            agent_id=terminal.agent_id,
            terminal=terminal,
            meter_number=meter_number,
            kind=kind,
            meter_message=meter_message[:80],
            description=description,
            purchase=purchase,
        )
        audit_record(
            action="fault.reported",
            obj=fault,
            actor_label=f"agent:{terminal.agent_id}/terminal:{terminal.pk}",
            purchase=purchase,
        )
    return fault
