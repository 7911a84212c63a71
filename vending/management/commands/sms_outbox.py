"""Show the SMS koronto sent (whatever the gateway: console, Africa's Talking, Kannel, Hormuud), newest last.

With --json each line carries the gateway that carried the message (`gateway`, null while queued).

    python manage.py sms_outbox [--to NUMBER] [--limit 20] [--json]
"""

import json

from django.core.management.base import BaseCommand, CommandParser

from vending import phones
from vending.models import SmsMessage


class Command(BaseCommand):
    help = "Show the SMS that were sent, newest last (any backend)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", default="", help="only messages to this number (any usual format)")
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--json", dest="as_json", action="store_true", help="one JSON object per line")

    def handle(self, *args, to: str, limit: int, as_json: bool, **options) -> None:
        rows = SmsMessage.objects.filter(direction=SmsMessage.Direction.OUTBOUND).select_related("purchase")
        if to:
            try:
                rows = rows.filter(phone=phones.normalise(to))
            except phones.InvalidPhoneNumber:
                rows = rows.filter(phone=to)
        latest = list(rows.order_by("-pk")[:limit])[::-1]
        for sms in latest:
            record = {
                "id": sms.pk,
                "to": sms.phone,
                "status": sms.status,
                "provider": sms.provider,
                "gateway": sms.gateway or None,
                "route": sms.route or None,
                "segments": sms.segments,
                "purchase": sms.purchase.reference if sms.purchase is not None else None,
                "created_at": sms.created_at.isoformat(),
                "text": sms.text,
            }
            if as_json:
                self.stdout.write(json.dumps(record, ensure_ascii=False))
            else:
                ref = f" ref {record['purchase']}" if record["purchase"] else ""
                when = f"{sms.created_at:%Y-%m-%d %H:%M:%S}"
                via = f" via {sms.gateway}" if sms.gateway else ""
                self.stdout.write(f"--- #{sms.pk} to {sms.phone} [{sms.status}]{via}{ref} {when}")
                self.stdout.write(sms.text)
        if not latest and not as_json:
            self.stdout.write("No SMS sent yet.")
