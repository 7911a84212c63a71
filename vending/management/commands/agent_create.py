"""Create an agent with one terminal and an API key; the key is printed once, alone on the last line.

python manage.py agent_create "Duka la Mama" --float 50000 --currency KES --credit-limit 5000
agent 3 "Duka la Mama": terminal "Terminal 1", float 50000.00 KES, credit limit 5000.00
kor_1a2b3c4d_...
"""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from vending.models import Agent
from vending.models.choices import Currency
from vending.services.agents import AgentError, agent_create


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise CommandError(f"{text!r} is not an amount.") from exc
    if value < 0 or not value.is_finite():
        raise CommandError(f"{text!r}: amounts cannot be negative.")
    return value.quantize(Decimal("0.01"))


class Command(BaseCommand):
    help = "Create an agent with one terminal and an API key (printed once, on the last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--float", dest="opening_float", default="0", help="Opening float (a top-up).")
        parser.add_argument("--currency", required=True, choices=Currency.values)
        parser.add_argument("--credit-limit", dest="credit_limit", default="0")
        parser.add_argument("--terminal", default="Terminal 1", help="Name of the first terminal.")

    def handle(
        self,
        *args: object,
        name: str,
        opening_float: str,
        currency: str,
        credit_limit: str,
        terminal: str,
        **options: object,
    ) -> None:
        if Agent.objects.filter(name=name).exists():
            raise CommandError(f"An agent named {name!r} exists already.")
        try:
            agent, issued = agent_create(
                name=name,
                currency=currency,
                opening_float=_amount(opening_float),
                credit_limit=_amount(credit_limit),
                terminal_name=terminal,
            )
        except (AgentError, IntegrityError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f'agent {agent.pk} "{agent.name}": terminal "{terminal}", float {_amount(opening_float)} '
            f"{currency}, credit limit {agent.credit_limit:.2f}"
        )
        self.stdout.write(issued.plaintext)
