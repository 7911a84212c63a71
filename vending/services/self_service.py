"""What a customer does for themselves on a phone channel, by customer id and meter number.

The USSD machine's effects (ussd/effects.py) name a meter by its number, a purchase by its reference and the
customer by the id the session holds; these functions find the rows and call the services, so the channel
never touches the ORM. (A purchase needs no wrapper: `purchase_create` takes the customer's id.)
"""

from vending.exceptions import PermissionDenied, UnknownMeter
from vending.models import Customer, CustomerMeter, Purchase
from vending.selectors.meters import meter_by_drn
from vending.services.customers import customer_remove_meter, customer_save_meter, customer_set_language
from vending.services.tokens import token_resend


def saved_meter_add(*, customer_id: int, drn: str, alias: str = "") -> CustomerMeter:
    """Save the meter numbered `drn` for the customer (renamed when saved already); UnknownMeter if none."""
    meter = meter_by_drn(drn=drn)
    if meter is None:
        raise UnknownMeter(drn)
    return customer_save_meter(customer=Customer.objects.get(pk=customer_id), meter=meter, alias=alias)


def saved_meter_remove(*, customer_id: int, drn: str) -> bool:
    """Forget the meter numbered `drn` for the customer; False when it was not saved (or does not exist)."""
    meter = meter_by_drn(drn=drn)
    if meter is None:
        return False
    return customer_remove_meter(customer=Customer.objects.get(pk=customer_id), meter=meter)


def language_set(*, customer_id: int, language: str) -> Customer:
    return customer_set_language(customer=Customer.objects.get(pk=customer_id), language=language)


def token_resend_by_reference(*, reference: str, phone: str) -> None:
    """Send the tokens of the purchase `reference` to `phone` again (token_resend checks the phone paid for it)."""
    purchase = Purchase.objects.filter(reference=reference).select_related("customer").first()
    if purchase is None:
        raise PermissionDenied("no such purchase")
    token_resend(purchase=purchase, phone=phone)
