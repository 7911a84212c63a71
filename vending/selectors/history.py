"""What a phone bought: its last tokens for a meter and its recent purchases (USSD and SMS self-service).

Both answer only for the buying MSISDN (`Purchase.payer_phone`, docs/PROTOCOLS.md §6 rule 8): a phone never
sees tokens or purchases paid from another number, even for a meter it has saved.
"""

from vending.models import Meter, Purchase, Token


def last_tokens_for_phone(*, phone: str, meter: Meter, limit: int = 3) -> list[Token]:
    """The newest credit tokens bought by `phone` for `meter`, newest first, each with its purchase loaded."""
    return list(
        Token.objects.filter(kind=Token.Kind.CREDIT, meter=meter, purchase__payer_phone=phone)
        .select_related("purchase", "meter")
        .order_by("-created_at", "-pk")[:limit]
    )


def recent_purchases_for_phone(*, phone: str, limit: int = 5) -> list[Purchase]:
    """The newest purchases paid from `phone`, newest first, with their meters loaded."""
    return list(
        Purchase.objects.filter(payer_phone=phone).select_related("meter").order_by("-created_at", "-pk")[:limit]
    )


def purchase_of_phone(*, reference: str, phone: str) -> Purchase | None:
    """The purchase with this reference if `phone` paid for it (a reference seen on someone else's receipt
    tells nothing), with its meter loaded."""
    return Purchase.objects.select_related("meter").filter(reference=reference, payer_phone=phone).first()
