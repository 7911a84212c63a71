"""Request validation and the documented response shapes of the partner API (docs/API.md).

Serializers only check and normalise input; the rules live in vending.services.agents.
"""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from vending import phones
from vending.exceptions import BadMeterNumber
from vending.meter_numbers import clean_drn
from vending.models import AgentSale, FaultReport
from vending.models.choices import Currency
from vending.wallets import wallet_choices, wallet_codes


def _meter_number(value: str) -> str:
    try:
        return clean_drn(value)
    except BadMeterNumber as exc:
        raise serializers.ValidationError(str(exc)) from exc


def _phone(value: str) -> str:
    try:
        return phones.normalise(value)
    except phones.InvalidPhoneNumber as exc:
        raise serializers.ValidationError("Not a valid phone number (E.164, e.g. +254711000111).") from exc


class MeterNumberField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=20, **kwargs)  # separators allowed; 11 or 13 digits remain

    def to_internal_value(self, data: Any) -> str:
        return _meter_number(super().to_internal_value(data))


class PhoneField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=20, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return _phone(super().to_internal_value(data))


class WalletField(serializers.ChoiceField):
    """A wallet code of the registry (vending/wallets.py), read each time a serializer is built."""

    def __init__(self, **kwargs: Any) -> None:
        codes = ", ".join(wallet_codes())
        kwargs.setdefault("help_text", f"mobile_money only: {codes}.")
        super().__init__(choices=wallet_choices(), **kwargs)


_AMOUNT: dict[str, Any] = {
    "max_digits": 12,
    "decimal_places": 2,
    "min_value": Decimal("0.01"),
    "coerce_to_string": True,
}


# -- requests -------------------------------------------------------------------------------------------


class QuoteRequest(serializers.Serializer):
    meter = MeterNumberField()
    amount = serializers.DecimalField(**_AMOUNT)


class PaymentRequest(serializers.Serializer):
    method = serializers.ChoiceField(choices=AgentSale.Method.choices)
    wallet = WalletField(required=False)
    phone = PhoneField(required=False, help_text="mobile_money only: the wallet's phone number (gets the prompt).")

    def validate(self, attrs: dict) -> dict:
        if attrs["method"] == AgentSale.Method.MOBILE_MONEY:
            for name in ("wallet", "phone"):
                if not attrs.get(name):
                    raise serializers.ValidationError({name: "Required for a mobile_money payment."})
        return attrs


class PurchaseRequest(serializers.Serializer):
    id = serializers.UUIDField(help_text="The client's id for this purchase (a v4 UUID): retries reuse it.")
    meter = MeterNumberField()
    amount = serializers.DecimalField(**_AMOUNT)
    currency = serializers.ChoiceField(choices=Currency.choices)
    customer_phone = PhoneField(required=False, help_text="The token SMS goes here too.")
    payment = PaymentRequest()


class FaultRequest(serializers.Serializer):
    meter = MeterNumberField()
    kind = serializers.ChoiceField(choices=FaultReport.Kind.choices)
    meter_message = serializers.CharField(max_length=80, required=False, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    purchase_id = serializers.UUIDField(required=False, help_text="The purchase the fault is about, if any.")


class ReversalRequest(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class StatementQuery(serializers.Serializer):
    from_ = serializers.DateField(required=False, help_text="First day (local time); default: first of the month.")
    to = serializers.DateField(required=False, help_text="Last day, included; default: today.")

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


# -- responses (documentation of the shapes the views build) ---------------------------------------------


class ErrorResponse(serializers.Serializer):
    code = serializers.CharField(help_text="Stable: VALIDATION_ERROR, DUPLICATE_RECORD, LIMIT_EXCEEDED, …")
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class MeterResponse(serializers.Serializer):
    meter = serializers.CharField()
    utility = serializers.CharField()
    customer_name = serializers.CharField(help_text="Masked: first letter of each word.")
    currency = serializers.CharField()
    min_amount = serializers.CharField()
    max_amount = serializers.CharField()
    outstanding_debt = serializers.CharField()
    key_change_pending = serializers.BooleanField()
    can_vend = serializers.BooleanField()
    reason_code = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)


class BlockResponse(serializers.Serializer):
    kwh = serializers.CharField()
    price = serializers.CharField()
    cost = serializers.CharField()


class BreakdownResponse(serializers.Serializer):
    energy_amount = serializers.CharField()
    vat = serializers.CharField()
    vat_percent = serializers.CharField()
    fixed_charge = serializers.CharField()
    debt_recovery = serializers.CharField()
    blocks = BlockResponse(many=True)


class QuoteResponse(serializers.Serializer):
    meter = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    units = serializers.CharField(help_text="kWh, one decimal.")
    breakdown = BreakdownResponse()


class TokenResponse(serializers.Serializer):
    digits = serializers.CharField(help_text="20 digits, no spaces.")
    kind = serializers.ChoiceField(choices=["standard", "key_change", "free", "engineering"])
    units = serializers.CharField(allow_null=True, help_text="kWh; null for key change tokens.")
    tid = serializers.IntegerField(allow_null=True)
    voided = serializers.BooleanField()


class PurchaseResponse(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["pending", "completed", "failed", "reversed", "review"])
    receipt = serializers.CharField()
    meter = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    payment_method = serializers.CharField()
    wallet = serializers.CharField(allow_null=True)
    units = serializers.CharField()
    tid = serializers.IntegerField(allow_null=True)
    tokens = TokenResponse(many=True)
    breakdown = BreakdownResponse()
    commission = serializers.CharField()
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    reversed_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField()


class FaultResponse(serializers.Serializer):
    reference = serializers.UUIDField()
    status = serializers.CharField()


class StatementEntryResponse(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    amount = serializers.CharField()
    balance_after = serializers.CharField()
    reference = serializers.CharField()
    purchase_id = serializers.UUIDField(allow_null=True)


class StatementResponse(serializers.Serializer):
    agent = serializers.CharField()
    currency = serializers.CharField()
    period_from = serializers.DateField()
    to = serializers.DateField()
    opening_balance = serializers.CharField()
    closing_balance = serializers.CharField()
    balance = serializers.CharField()
    credit_limit = serializers.CharField()
    sales_count = serializers.IntegerField()
    sales_amount = serializers.CharField()
    reversals_count = serializers.IntegerField()
    commission = serializers.CharField()
    entries = StatementEntryResponse(many=True)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = fields.pop("period_from")
        return fields
