"""Revenue protection: a voided token (taken back by an agent's reversal) that a meter accepts anyway."""

from vending.models import Meter, RevenueFinding, TokenVoid
from vending.services.audit import audit_record


def voided_token_seen(*, meter: Meter, digits: str, source: str) -> RevenueFinding | None:
    """Record a finding when `digits`, just accepted by `meter`, are a voided token of that meter."""
    void = TokenVoid.objects.filter(token__meter=meter, token__digits=digits).first()
    if void is None:
        return None
    finding = RevenueFinding.objects.create(token_void=void, meter=meter, source=source)
    audit_record(
        action="revenue.voided_token_accepted",
        obj=finding,
        purchase_id=void.token.purchase_id,
        data={"meter": meter.drn, "source": source},
    )
    return finding
