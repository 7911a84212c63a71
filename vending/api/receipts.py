"""The JSON bodies the partner API answers with, built from rows (shapes documented in serializers.py)."""

from decimal import Decimal
from typing import Any

from vending.models import AgentSale, Meter, Token
from vending.selectors.meter_status import VendCheck
from vending.states import PurchaseState
from vending.tariffs import Quote

# Token.Kind → the API's token kinds (XMLVend and Electrum call a credit token "standard").
TOKEN_KINDS: dict[str, str] = {
    Token.Kind.CREDIT: "standard",
    Token.Kind.KEY_CHANGE: "key_change",
    Token.Kind.FREE: "free",
    Token.Kind.ENGINEERING: "engineering",
}

_STATUS: dict[str, str] = {
    PurchaseState.CREATED: "pending",
    PurchaseState.PAYMENT_PENDING: "pending",
    PurchaseState.PAID: "pending",
    PurchaseState.VENDED: "completed",
    PurchaseState.DELIVERED: "completed",
    PurchaseState.PAYMENT_FAILED: "failed",
    PurchaseState.CANCELLED: "failed",
    PurchaseState.NEEDS_REVIEW: "review",
    PurchaseState.REFUND_PENDING: "review",
    PurchaseState.REFUNDED: "failed",
}


def money(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


def mask_name(name: str) -> str:
    """'Amina Hassan' → 'A**** H*****': enough to recognise, not enough to read out."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split() if word)


def breakdown(quote: dict[str, Any]) -> dict[str, Any]:
    return {
        "energy_amount": quote["energy_amount"],
        "vat": quote["vat"],
        "vat_percent": quote.get("vat_percent", "0"),
        "fixed_charge": quote["fixed_charge"],
        "debt_recovery": quote["debt_recovery"],
        "blocks": [dict(block) for block in quote.get("blocks_used", [])],
    }


def _ordered(tokens: list[Token]) -> list[Token]:
    keys = sorted((t for t in tokens if t.kind == Token.Kind.KEY_CHANGE), key=lambda t: t.sequence)
    return keys + [t for t in tokens if t.kind != Token.Kind.KEY_CHANGE]


def token_body(token: Token, *, voided: bool = False) -> dict[str, Any]:
    return {
        "digits": token.digits,
        "kind": TOKEN_KINDS.get(token.kind, token.kind),
        "units": None if token.units is None else f"{token.units:.1f}",
        "tid": token.tid,
        "voided": voided,
    }


def purchase_body(sale: AgentSale, tokens: list[Token], *, voided: frozenset[int] = frozenset()) -> dict[str, Any]:
    """A purchase as the agent sees it; the first answer is stored and replayed as it was."""
    purchase = sale.purchase
    ordered = _ordered(tokens)
    credit = next((t for t in ordered if t.kind == Token.Kind.CREDIT), None)
    status = "reversed" if sale.reversed_at else _STATUS.get(purchase.state, "pending")
    return {
        "id": str(sale.client_id),
        "status": status,
        "receipt": purchase.reference,
        "meter": purchase.meter.drn,
        "amount": money(purchase.amount),
        "currency": purchase.currency,
        "payment_method": sale.method,
        "wallet": purchase.wallet if sale.method == AgentSale.Method.MOBILE_MONEY else None,
        "units": purchase.quote.get("kwh", "0"),
        "tid": credit.tid if credit else None,
        "tokens": [token_body(t, voided=t.pk in voided) for t in ordered],
        "breakdown": breakdown(purchase.quote),
        "commission": money(sale.commission),
        "created_at": purchase.created_at.isoformat(),
        "confirmed_at": sale.confirmed_at.isoformat() if sale.confirmed_at else None,
        "reversed_at": sale.reversed_at.isoformat() if sale.reversed_at else None,
        "url": f"/api/v1/purchases/{sale.client_id}",
    }


def quote_body(meter: Meter, quote: Quote) -> dict[str, Any]:
    data = quote.to_dict()
    return {
        "meter": meter.drn,
        "amount": money(quote.amount),
        "currency": quote.currency,
        "units": data["kwh"],
        "breakdown": breakdown(data),
    }


def meter_body(meter: Meter, *, check: VendCheck, debt: Decimal) -> dict[str, Any]:
    tariff = meter.tariff
    return {
        "meter": meter.drn,
        "utility": tariff.utility.name,
        "customer_name": mask_name(meter.label_name),
        "currency": tariff.currency,
        "min_amount": money(tariff.min_purchase),
        "max_amount": money(tariff.max_purchase),
        "outstanding_debt": money(debt),
        "key_change_pending": meter.has_pending_key_change,
        "can_vend": check.can_vend,
        "reason_code": check.code or None,
        "reason": check.reason or None,
    }
