"""Type a token into a meter's virtual meter and print what the meter shows.

python manage.py meter_enter 04123456784 "1234 5678 9012 3456 7890"
Accept: 25.0 kWh, credit 40.0 kWh
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vending.exceptions import BadMeterNumber
from vending.meter_numbers import clean_drn
from vending.models import Meter
from vending.services.virtual_meters import meter_enter


class Command(BaseCommand):
    help = "Type a token into the virtual meter of DRN and print the meter's answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("drn")
        parser.add_argument("token", nargs="+", help="20 digits, spaces or dashes allowed")

    def handle(self, *args, drn: str, token: list[str], **options) -> None:
        try:
            meter = Meter.objects.get(drn=clean_drn(drn))
        except (BadMeterNumber, Meter.DoesNotExist) as exc:
            raise CommandError(f"No meter {drn}.") from exc
        digits = "".join(c for c in "".join(token) if c.isdigit())
        if len(digits) != 20:
            raise CommandError("A token is 20 digits.")
        result = meter_enter(meter=meter, token=digits)
        self.stdout.write(result.message)
        if not result.accepted:
            raise SystemExit(1)
