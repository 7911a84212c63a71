from decimal import Decimal, InvalidOperation

from django.db import migrations, models


def copy_fixed_charges_from_quotes(apps, schema_editor):
    Purchase = apps.get_model("vending", "Purchase")
    charged = []
    for pk, quote in Purchase.objects.values_list("pk", "quote").iterator(chunk_size=2000):
        try:
            fixed = Decimal(str((quote or {}).get("fixed_charge") or "0"))
        except (InvalidOperation, AttributeError):
            continue
        if fixed > 0:
            charged.append(Purchase(pk=pk, fixed_charge=fixed))
    Purchase.objects.bulk_update(charged, ["fixed_charge"], batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ("vending", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="purchase",
            name="fixed_charge",
            field=models.DecimalField(decimal_places=2, default=0, editable=False, max_digits=12),
        ),
        migrations.RunPython(copy_fixed_charges_from_quotes, migrations.RunPython.noop),
    ]
