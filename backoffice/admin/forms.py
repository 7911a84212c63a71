"""Forms behind the staff actions; every money or token action asks for a reason."""

from django import forms

from backoffice.models import KeyChangeCampaign, ReconciliationResolution, ReconciliationStatement
from backoffice.services.delivery import SHOW, SMS
from backoffice.services.key_changes import MODES, NOW
from backoffice.services.meter_tokens import ENGINEERING_KINDS
from vending.models import SupplyGroup
from vending.models.choices import BaseDate

REASON_HELP = "Why: kept in the audit trail with your name."


def reason_field() -> forms.CharField:
    return forms.CharField(
        min_length=3, max_length=500, widget=forms.Textarea(attrs={"rows": 2}), help_text=REASON_HELP
    )


DELIVERY_CHOICES = [(SMS, "SMS to the meter's customers"), (SHOW, "Show once on screen")]


class ReasonForm(forms.Form):
    reason = reason_field()


class ReceiptForm(forms.Form):
    receipt = forms.CharField(
        max_length=64, min_length=4, help_text="The provider's receipt (M-Pesa receipt, WaafiPay transaction id)."
    )
    reason = reason_field()


class EngineeringTokenForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k.replace("_", " ")) for k in ENGINEERING_KINDS])
    watts = forms.IntegerField(
        required=False, min_value=1, max_value=1_000_000, help_text="Only for 'set power limit'."
    )
    delivery = forms.ChoiceField(choices=DELIVERY_CHOICES)
    reason = reason_field()


class FreeTokenForm(forms.Form):
    kwh = forms.DecimalField(min_value=0.1, max_value=1000, decimal_places=1, label="kWh")
    delivery = forms.ChoiceField(choices=DELIVERY_CHOICES)
    reason = reason_field()


class KeyChangeForm(forms.Form):
    supply_group = forms.ModelChoiceField(
        queryset=SupplyGroup.objects.filter(is_active=True, vending_key_encrypted__isnull=False),
        label="New supply group / key revision",
    )
    tariff_index = forms.IntegerField(required=False, min_value=0, max_value=99, help_text="Empty: unchanged.")
    base_date = forms.TypedChoiceField(
        choices=[("", "the supply group's"), *BaseDate.choices],
        coerce=int,
        required=False,
        empty_value=None,
        help_text="1993 → 2014 sets the roll-over bit.",
    )
    mode = forms.ChoiceField(choices=[(m, KeyChangeCampaign.Mode(m).label) for m in MODES], initial=NOW)
    delivery = forms.ChoiceField(
        choices=[(SMS, "SMS to the meter's customers"), (SHOW, "Show once on screen (one meter) / keep (batch)")]
    )
    name = forms.CharField(max_length=120, required=False, help_text="Campaign name (batches).")
    reason = reason_field()


class UploadForm(forms.Form):
    file = forms.FileField()

    def text(self) -> str:
        raw = self.cleaned_data["file"].read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


class StatementUploadForm(UploadForm):
    source = forms.ChoiceField(choices=ReconciliationStatement.Source.choices)


class ResolveForm(forms.Form):
    action = forms.ChoiceField(choices=ReconciliationResolution.Action.choices)
    reason = reason_field()


class LookupForm(forms.Form):
    q = forms.CharField(
        label="Any number",
        max_length=40,
        help_text="Phone, meter number, purchase reference, M-Pesa receipt, transaction id.",
    )
