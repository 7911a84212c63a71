"""Small builders for test data; every test module uses these instead of its own copies."""

import itertools
import secrets
from decimal import Decimal

from vending.models import Customer, Meter, Payment, Purchase, SupplyGroup, Tariff, TariffBlock, Utility
from vending.services.customers import meter_register
from vending.services.keys import supply_group_set_vending_key
from vending.sts import luhn_check_digit

_serial = itertools.count(1)


def make_drn(length: int = 11) -> str:
    """A fresh DRN with a valid check digit (11 digits: 2-digit MfrCode; 13: 4-digit)."""
    payload = f"{next(_serial) + 4000000:0{length - 1}d}"
    return payload + luhn_check_digit(payload)


def make_utility(country: str = "KE", currency: str = "KES") -> Utility:
    return Utility.objects.create(name=f"Utility {next(_serial)}", country=country, currency=currency)


def current_base_date(*, real_clock: bool = False) -> int:
    """The base date a meter made now has (the product's rule, vending.sts.tid.base_date_in_use): 2014,
    or 2035 once base 2014's TIDs have run out (Nov 2045).

    `real_clock`: for a meter that a process the test starts will vend (gunicorn, a Celery worker): those
    keep the real clock when KORONTO_TEST_DATE moves the test's own clock (tests/conftest.py)."""
    from datetime import UTC

    from django.utils import timezone
    from time_machine import escape_hatch

    from vending.sts.tid import base_date_in_use

    travelling = real_clock and escape_hatch.is_travelling()
    return base_date_in_use(escape_hatch.datetime.datetime.now(UTC) if travelling else timezone.now())


def make_supply_group(
    utility: Utility | None = None,
    *,
    dkga: str = "02",
    ea: str = "07",
    base_date: int | None = None,
    sgc: str | None = None,
    key_revision: int = 1,
) -> SupplyGroup:
    group = SupplyGroup.objects.create(
        utility=utility or make_utility(),
        name="Test group",
        sgc=sgc or f"{next(_serial) % 1000000:06d}",
        key_revision=key_revision,
        dkga=dkga,
        ea=ea,
        base_date=base_date or current_base_date(),
    )
    return supply_group_set_vending_key(supply_group=group, key=secrets.token_bytes(8 if dkga == "02" else 20))


def make_flat_tariff(utility: Utility, *, price: str = "20", currency: str | None = None, **fields) -> Tariff:
    values = {"vat_percent": Decimal("0"), "min_purchase": Decimal("10"), "max_purchase": Decimal("10000")}
    values.update(fields)
    return Tariff.objects.create(
        utility=utility,
        name=f"Flat {next(_serial)}",
        currency=currency or utility.currency,
        kind=Tariff.Kind.FLAT,
        price_per_kwh=Decimal(price),
        **values,
    )


def make_block_tariff(utility: Utility, blocks: list[tuple[str | None, str]], **fields) -> Tariff:
    values = {"vat_percent": Decimal("0"), "min_purchase": Decimal("10"), "max_purchase": Decimal("10000")}
    values.update(fields)
    tariff = Tariff.objects.create(
        utility=utility,
        name=f"Blocks {next(_serial)}",
        currency=utility.currency,
        kind=Tariff.Kind.BLOCKS,
        **values,
    )
    for up_to, price in blocks:
        TariffBlock.objects.create(
            tariff=tariff, up_to_kwh=Decimal(up_to) if up_to else None, price_per_kwh=Decimal(price)
        )
    return tariff


def make_meter(
    *, supply_group: SupplyGroup | None = None, tariff: Tariff | None = None, drn: str | None = None, **fields
) -> Meter:
    supply_group = supply_group or make_supply_group()
    tariff = tariff or make_flat_tariff(supply_group.utility)
    meter = meter_register(
        drn=drn or make_drn(),
        supply_group=supply_group,
        tariff=tariff,
        label_name=fields.pop("label_name", "Test Home"),
    )
    if fields:
        Meter.objects.filter(pk=meter.pk).update(**fields)
        meter.refresh_from_db()
    return meter


def make_customer(phone: str | None = None, language: str = "en") -> Customer:
    return Customer.objects.create(phone=phone or f"+2547{next(_serial) % 100000000:08d}", language=language)


def make_purchase(meter: Meter | None = None, *, amount: str = "100", wallet: str = "mpesa", **fields) -> Purchase:
    meter = meter or make_meter()
    n = next(_serial)
    values = {
        "reference": f"T{n:09d}",
        "idempotency_key": f"test-{n}",
        "channel": "ussd",
        "payer_phone": "+254711000111",
        "currency": meter.tariff.currency,
    }
    values.update(fields)
    # As purchase_create does: the quote's fixed charge is also kept as a column.
    values.setdefault("fixed_charge", Decimal(str(values.get("quote", {}).get("fixed_charge") or "0")))
    return Purchase.objects.create(meter=meter, wallet=wallet, amount=Decimal(amount), **values)


def make_payment(purchase: Purchase, *, provider: str = "sandbox", reference: str = "") -> Payment:
    return Payment.objects.create(
        purchase=purchase, provider=provider, provider_reference=reference, amount_requested=purchase.amount
    )


def make_credit_token(
    meter: Meter, *, units: str, created_at=None, purchase: Purchase | None = None, kind: str = "credit"
):
    """A stored token row (fake digits) for month-to-date queries; `created_at` back-dates it."""
    from vending.models import Token

    n = next(_serial)
    token = Token.objects.create(
        meter=meter,
        purchase=purchase,
        kind=kind,
        token_class=0,
        subclass=0,
        tid=n,
        units=Decimal(units),
        digits=f"{n:020d}",
    )
    if created_at is not None:
        Token.objects.filter(pk=token.pk).update(created_at=created_at)
        token.refresh_from_db()
    return token
