"""Money → energy for one purchase: the pure tariff maths (no ORM, no settings, no clock; Decimal only).

Our policy, applied in this order to the amount the customer pays (the amount includes VAT):

1. Refuse an amount that is not positive, has more decimals than the currency's minor unit, or lies
   outside the tariff's [min_purchase, max_purchase].
2. Fixed monthly charge: taken whole from the first purchase of each calendar month. An amount that
   cannot pay more than it is refused (never part-paid), so every accepted purchase buys some energy
   and the charge is never split across purchases. (At 100 % debt recovery the whole debt is added
   to that floor, for the same reason.)
3. Debt recovery: debt_recovery_percent of what remains after the fixed charge, capped at the
   meter's outstanding balance. Neither the fixed charge nor the debt carries VAT here.
4. VAT: what is left pays for energy VAT included, so VAT = rest * v / (100 + v).
5. Energy: the rest net of VAT buys kWh at the flat price, or walks the blocks starting at the kWh
   already bought this calendar month; a block that fills costs capacity * price, and the last
   block used takes whatever money is left.

Rounding is always in the customer's favour: every charge (debt, VAT, the cost of a full block) is
rounded DOWN to the currency's minor unit, the energy money is what is left over (so fixed + debt +
VAT + energy == amount exactly), and the total kWh is rounded UP to 0.1 kWh, the STS unit
(docs/STS.md §5). Minor units: KES 2 decimals (the maths works in cents; M-Pesa itself takes whole
shillings, which is checked where the wallet is known), USD 2 (WaafiPay truncates beyond 2),
SLSH 0 (the Somaliland shilling has no subunit in circulation).

Refusals raise vending.exceptions.AmountOutOfRange whose message is plain English for staff and
logs; `error.message_key` and `error.message_values` let a channel render the same refusal in the
customer's language with vending.i18n.render.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from vending.exceptions import AmountOutOfRange
from vending.i18n import register, render

MINOR_UNITS: dict[str, int] = {"KES": 2, "USD": 2, "SLSH": 0}
KWH_DECIMALS = 1  # one STS unit is 0.1 kWh
FLAT = "flat"
BLOCKS = "blocks"

register(
    {
        "en": {
            "tariff.part.energy": "energy",
            "tariff.part.vat": "VAT",
            "tariff.part.fixed": "fixed",
            "tariff.part.debt": "debt",
            "tariff.error.not_positive": "The amount must be more than zero.",
            "tariff.error.decimals": "That amount has too many decimals. Please enter it like {example}.",
            "tariff.error.range": "The amount must be between {minimum} and {maximum}.",
            "tariff.error.below_fixed": (
                "The first purchase this month must be more than {minimum}, the monthly fixed charge."
            ),
            "tariff.error.below_charges": (
                "The amount must be more than {minimum} to buy electricity after the fixed charge and debt."
            ),
            "tariff.error.too_many_kwh": "The most you can buy at once is {maximum} ({kwh} kWh).",
        },
        "so": {
            "tariff.part.energy": "koronto",
            "tariff.part.vat": "canshuur",
            "tariff.part.fixed": "khidmad",
            "tariff.part.debt": "deyn",
            "tariff.error.not_positive": "Lacagtu waa inay ka badnaataa eber.",
            "tariff.error.decimals": "Lacagtaas jajab badan ayey leedahay. Fadlan u qor sidan: {example}.",
            "tariff.error.range": "Lacagtu waa inay u dhexeysaa {minimum} iyo {maximum}.",
            "tariff.error.below_fixed": (
                "Iibka ugu horreeya bishan waa inuu ka badnaadaa {minimum}, oo ah khidmadda bishii."
            ),
            "tariff.error.below_charges": (
                "Lacagtu waa inay ka badnaataa {minimum} si aad koronto u iibsato kadib khidmadda iyo deynta."
            ),
            "tariff.error.too_many_kwh": "Ugu badnaan hal mar waxaad iibsan kartaa {maximum} ({kwh} kWh).",
        },
        "sw": {
            "tariff.part.energy": "umeme",
            "tariff.part.vat": "VAT",
            "tariff.part.fixed": "ada",
            "tariff.part.debt": "deni",
            "tariff.error.not_positive": "Kiasi lazima kiwe zaidi ya sifuri.",
            "tariff.error.decimals": "Kiasi hicho kina desimali nyingi mno. Tafadhali andika hivi: {example}.",
            "tariff.error.range": "Kiasi lazima kiwe kati ya {minimum} na {maximum}.",
            "tariff.error.below_fixed": "Ununuzi wa kwanza wa mwezi huu lazima uzidi {minimum}, ada ya kila mwezi.",
            "tariff.error.below_charges": "Kiasi lazima kizidi {minimum} ili kununua umeme baada ya ada na deni.",
            "tariff.error.too_many_kwh": "Kiwango cha juu kwa mara moja ni {maximum} ({kwh} kWh).",
        },
    }
)


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, kw_only=True)
class TariffSpec:
    """A tariff as plain values. `blocks` are (up_to_kwh, price_per_kwh) with cumulative thresholds
    per calendar month, in increasing order, the last one open (up_to_kwh None)."""

    currency: str
    kind: str
    min_purchase: Decimal
    max_purchase: Decimal
    price_per_kwh: Decimal | None = None
    blocks: tuple[tuple[Decimal | None, Decimal], ...] = ()
    vat_percent: Decimal = Decimal(0)
    fixed_monthly_charge: Decimal = Decimal(0)
    debt_recovery_percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        # A misconfigured tariff is a staff error: fail loudly rather than sell at a wrong price.
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"tariff currency {self.currency!r} is not one of {sorted(MINOR_UNITS)}")
        if self.kind == FLAT:
            if self.price_per_kwh is None or not self.price_per_kwh > 0:
                raise ValueError("a flat tariff needs a positive price_per_kwh")
        elif self.kind == BLOCKS:
            _check_blocks(self.blocks)
        else:
            raise ValueError(f"tariff kind {self.kind!r} is neither {FLAT!r} nor {BLOCKS!r}")
        if self.vat_percent < 0:
            raise ValueError("vat_percent must not be negative")
        if not 0 <= self.debt_recovery_percent <= 100:
            raise ValueError("debt_recovery_percent must be between 0 and 100")
        if self.fixed_monthly_charge < 0:
            raise ValueError("fixed_monthly_charge must not be negative")
        if not 0 < self.min_purchase <= self.max_purchase:
            raise ValueError("the purchase range needs 0 < min_purchase <= max_purchase")

    def price_steps(self) -> tuple[tuple[Decimal | None, Decimal], ...]:
        """The blocks to walk; a flat tariff is one open block."""
        if self.kind == FLAT:
            assert self.price_per_kwh is not None  # checked in __post_init__
            return ((None, self.price_per_kwh),)
        return self.blocks


def _check_blocks(blocks: tuple[tuple[Decimal | None, Decimal], ...]) -> None:
    if not blocks:
        raise ValueError("a block tariff needs at least one block")
    previous = Decimal(0)
    for index, (up_to, price) in enumerate(blocks):
        if not price > 0:
            raise ValueError("every block needs a positive price_per_kwh")
        is_last = index == len(blocks) - 1
        if up_to is None:
            if not is_last:
                raise ValueError("only the last block may be open")
            continue
        if is_last:
            raise ValueError("the last block must be open (up_to_kwh empty)")
        if not up_to > previous:
            raise ValueError("block thresholds must increase")
        previous = up_to


@dataclass(frozen=True, kw_only=True)
class MonthToDate:
    """What this meter already did in the calendar month of the purchase."""

    kwh_bought: Decimal = Decimal(0)
    fixed_charge_paid: bool = False
    debt_balance: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.kwh_bought < 0 or self.debt_balance < 0:
            raise ValueError("month-to-date kWh and debt balance cannot be negative")


# ---------------------------------------------------------------------------------------------
# Output


class BlockUse(NamedTuple):
    kwh: Decimal
    price: Decimal
    cost: Decimal


@dataclass(frozen=True, kw_only=True)
class Quote:
    amount: Decimal
    currency: str
    fixed_charge: Decimal
    debt_recovery: Decimal
    vat: Decimal
    vat_percent: Decimal
    energy_amount: Decimal  # net of VAT
    kwh: Decimal  # one decimal
    units: int  # STS units of 0.1 kWh
    blocks_used: tuple[BlockUse, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for Purchase.quote: money and kWh as strings, units as an int."""
        return {
            "amount": _plain(self.amount),
            "currency": self.currency,
            "fixed_charge": _plain(self.fixed_charge),
            "debt_recovery": _plain(self.debt_recovery),
            "vat": _plain(self.vat),
            "vat_percent": _plain(self.vat_percent),
            "energy_amount": _plain(self.energy_amount),
            "kwh": _plain(self.kwh),
            "units": self.units,
            "blocks_used": [
                {"kwh": _plain(use.kwh), "price": _plain(use.price), "cost": _plain(use.cost)}
                for use in self.blocks_used
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quote:
        return cls(
            amount=Decimal(data["amount"]),
            currency=data["currency"],
            fixed_charge=Decimal(data["fixed_charge"]),
            debt_recovery=Decimal(data["debt_recovery"]),
            vat=Decimal(data["vat"]),
            vat_percent=Decimal(data.get("vat_percent", "0")),
            energy_amount=Decimal(data["energy_amount"]),
            kwh=Decimal(data["kwh"]),
            units=int(data["units"]),
            blocks_used=tuple(
                BlockUse(Decimal(use["kwh"]), Decimal(use["price"]), Decimal(use["cost"]))
                for use in data.get("blocks_used", ())
            ),
        )

    def summary_lines(self, lang: str | None = None) -> tuple[str, ...]:
        """("KES 500", "energy 412.07", "VAT 65.93", "fixed 22.00", "32.8 kWh"): amount, each non-zero
        part (energy always), then the kWh. Channels put them on a USSD screen or an SMS."""
        parts = [
            ("tariff.part.energy", self.energy_amount),
            ("tariff.part.vat", self.vat),
            ("tariff.part.fixed", self.fixed_charge),
            ("tariff.part.debt", self.debt_recovery),
        ]
        shown = [
            f"{render(key, lang)} {format_amount(value, self.currency)}"
            for key, value in parts
            if value or key == "tariff.part.energy"
        ]
        return (format_money(self.amount, self.currency), *shown, f"{format_kwh(self.kwh)} kWh")

    def breakdown(self, lang: str | None = None) -> str:
        """One short line: "KES 500: energy 412.07, VAT 65.93, fixed 22.00 = 32.8 kWh"."""
        lines = self.summary_lines(lang)
        return f"{lines[0]}: {', '.join(lines[1:-1])} = {lines[-1]}"

    def blocks_breakdown(self) -> str:
        """Where the energy money went, block by block: "10 kWh x 12.23 + 18.7 kWh x 16.54"."""
        return " + ".join(
            f"{format_kwh(use.kwh)} kWh x {_format_decimal(use.price, MINOR_UNITS[self.currency])}"
            for use in self.blocks_used
        )


# ---------------------------------------------------------------------------------------------
# The maths


def quote(*, tariff: TariffSpec, amount: Decimal, month: MonthToDate) -> Quote:
    """Split `amount` (VAT included) into fixed charge, debt recovery, VAT and energy, and the kWh
    the energy buys. Raises AmountOutOfRange with a reason a customer understands."""
    currency = tariff.currency
    _check_amount(tariff, amount)

    fixed = Decimal(0) if month.fixed_charge_paid else _floor_money(tariff.fixed_monthly_charge, currency)
    balance = _floor_money(month.debt_balance, currency)
    _check_covers_charges(tariff, amount, fixed=fixed, balance=balance)

    rest = amount - fixed
    debt = min(_floor_money(Fraction(rest) * Fraction(tariff.debt_recovery_percent) / 100, currency), balance)
    gross_energy = rest - debt
    vat_share = Fraction(tariff.vat_percent) / (100 + Fraction(tariff.vat_percent))
    vat = _floor_money(Fraction(gross_energy) * vat_share, currency)
    energy = gross_energy - vat

    blocks_used, units = _buy_energy(tariff, start_kwh=month.kwh_bought, money=energy)
    return Quote(
        amount=_with_minor_places(amount, currency),
        currency=currency,
        fixed_charge=_with_minor_places(fixed, currency),
        debt_recovery=_with_minor_places(debt, currency),
        vat=_with_minor_places(vat, currency),
        vat_percent=tariff.vat_percent,
        energy_amount=_with_minor_places(energy, currency),
        kwh=_units_to_kwh(units),
        units=units,
        blocks_used=blocks_used,
    )


def amount_needed_for_kwh(*, tariff: TariffSpec, kwh: Decimal, month: MonthToDate) -> Decimal:
    """The smallest amount whose quote gives at least `kwh` ("how much for 50 kWh?").

    A binary search over quote() itself, so the answer always agrees with the quote the customer
    will get; it relies on more money never buying fewer kWh (a tested property)."""
    if not kwh > 0:
        raise ValueError("kwh must be positive")
    wanted_units = math.ceil(Fraction(kwh) * 10)
    step = _minor_unit(tariff.currency)
    low = _ceil_to_minor(tariff.min_purchase, tariff.currency)
    high = _floor_money(tariff.max_purchase, tariff.currency)

    def units_for(minor_count: int) -> int:
        try:
            return quote(tariff=tariff, amount=minor_count * step, month=month).units
        except AmountOutOfRange:
            return 0  # below the fixed charge: buys nothing

    low_count, high_count = int(low / step), int(high / step)
    if units_for(high_count) < wanted_units:
        raise _refusal(
            "tariff.error.too_many_kwh",
            maximum=format_money(high, tariff.currency),
            kwh=format_kwh(_units_to_kwh(units_for(high_count))),
        )
    while low_count < high_count:
        middle = (low_count + high_count) // 2
        if units_for(middle) >= wanted_units:
            high_count = middle
        else:
            low_count = middle + 1
    return _with_minor_places(low_count * step, tariff.currency)


def _check_amount(tariff: TariffSpec, amount: Decimal) -> None:
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")  # a float here is a programming error
    currency = tariff.currency
    if not amount.is_finite() or amount <= 0:
        raise _refusal("tariff.error.not_positive")
    if _floor_money(amount, currency) != amount:
        raise _refusal("tariff.error.decimals", example=format_money(_floor_money(amount, currency), currency))
    if not tariff.min_purchase <= amount <= tariff.max_purchase:
        raise _refusal(
            "tariff.error.range",
            minimum=format_money(tariff.min_purchase, currency),
            maximum=format_money(tariff.max_purchase, currency),
        )


def _check_covers_charges(tariff: TariffSpec, amount: Decimal, *, fixed: Decimal, balance: Decimal) -> None:
    """Refuse an amount that would buy no energy at all (see the module docstring, step 2)."""
    takes_whole_debt = tariff.debt_recovery_percent >= 100 and balance > 0
    floor = fixed + (balance if takes_whole_debt else 0)
    if amount > floor:
        return
    key = "tariff.error.below_charges" if takes_whole_debt else "tariff.error.below_fixed"
    raise _refusal(key, minimum=format_money(floor, tariff.currency))


def _buy_energy(tariff: TariffSpec, *, start_kwh: Decimal, money: Decimal) -> tuple[tuple[BlockUse, ...], int]:
    """Walk the price steps from `start_kwh`; return the blocks used and the STS units (rounded up)."""
    currency = tariff.currency
    used: list[tuple[Decimal, Decimal, Decimal]] = []  # (kwh, price, cost); the last kwh is fixed below
    exact_kwh = Fraction(0)
    left = money
    lower = Decimal(0)
    for up_to, price in tariff.price_steps():
        if left <= 0:
            break
        if up_to is not None and start_kwh >= up_to:
            lower = up_to
            continue  # this block was used up earlier in the month
        if up_to is not None:
            capacity = up_to - max(start_kwh, lower)
            full_cost = _floor_money(Fraction(capacity) * Fraction(price), currency)
            if left >= full_cost:
                used.append((capacity, price, full_cost))
                exact_kwh += Fraction(capacity)
                left -= full_cost
                lower = up_to
                continue
        exact_kwh += Fraction(left) / Fraction(price)
        used.append((Decimal(0), price, left))
        left = Decimal(0)

    units = math.ceil(exact_kwh * 10)
    # The round-up lands in the last block used, so the blocks' kWh add up to the quote's kWh.
    earlier = sum((kwh for kwh, _, _ in used[:-1]), Decimal(0))
    blocks = [BlockUse(kwh, price, _with_minor_places(cost, currency)) for kwh, price, cost in used[:-1]]
    if used:
        _, price, cost = used[-1]
        blocks.append(BlockUse(_units_to_kwh(units) - earlier, price, _with_minor_places(cost, currency)))
    return tuple(blocks), units


# ---------------------------------------------------------------------------------------------
# Money helpers


def format_money(amount: Decimal, currency: str) -> str:
    """ "KES 500", "USD 10.50", "SLSH 12,000": the ISO-style code (GSM-7 safe), whole amounts without
    decimals, others with the currency's minor-unit decimals."""
    if amount == amount.to_integral_value():
        return f"{currency} {amount:,.0f}"
    return f"{currency} {format_amount(amount, currency)}"


def format_amount(amount: Decimal, currency: str) -> str:
    """A money value with the currency's minor-unit decimals and thousands separators: "1,412.07"."""
    return _format_decimal(amount, MINOR_UNITS[currency])


def format_kwh(kwh: Decimal) -> str:
    """kWh with at least one decimal: "32.8", "10.0", "1,638.4"."""
    return _format_decimal(kwh, KWH_DECIMALS)


def _format_decimal(value: Decimal, min_places: int) -> str:
    # Never round while formatting: show every significant decimal, and at least min_places.
    exponent = value.normalize().as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return f"{value:,.{places}f}"


def _minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def _floor_money(value: Decimal | Fraction, currency: str) -> Decimal:
    places = MINOR_UNITS[currency]
    return Decimal(math.floor(Fraction(value) * 10**places)).scaleb(-places)


def _ceil_to_minor(value: Decimal, currency: str) -> Decimal:
    places = MINOR_UNITS[currency]
    return Decimal(math.ceil(Fraction(value) * 10**places)).scaleb(-places)


def _with_minor_places(value: Decimal, currency: str) -> Decimal:
    """The same value written with exactly the currency's decimals (values here are already exact)."""
    return value.quantize(_minor_unit(currency))


def _units_to_kwh(units: int) -> Decimal:
    return Decimal(units).scaleb(-KWH_DECIMALS)


def _plain(value: Decimal) -> str:
    return f"{value:f}"


def _refusal(key: str, **values: str) -> AmountOutOfRange:
    return AmountOutOfRange(render(key, "en", **values), message_key=key, message_values=values)
