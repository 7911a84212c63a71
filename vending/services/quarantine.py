"""Unreadable webhook bodies: kept, escaped, in a flagged ProviderCallback row that no task processes.

The row is the evidence for staff (the admin lists flagged callbacks); it is marked processed when it is
written, so it is flagged once and never retried. A provider repeating the same bytes finds the same row.
"""

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction

from vending.models import ProviderCallback
from vending.webhookbody import RawBody, escaped

log = logging.getLogger(__name__)


def callback_quarantine(
    *,
    provider: str,
    kind: str,
    headers: Mapping[str, str],
    raw: RawBody,
    problem: str,
    now: datetime,
    source_ip: str | None = None,
) -> ProviderCallback:
    """Store an unreadable callback flagged "unreadable: <problem>"; a repeat returns the first row."""
    digest = hashlib.sha256(b"\x00".join([b"unreadable", provider.encode(), kind.encode(), raw.data])).hexdigest()
    safe_headers = {
        escaped(str(k).encode("utf-8", "replace")): escaped(str(v).encode("utf-8", "replace"))
        for k, v in headers.items()
    }
    reason = f"unreadable: {problem}"[:255]
    try:
        with transaction.atomic():
            callback, created = ProviderCallback.objects.get_or_create(
                dedupe_key=digest,
                defaults={
                    "provider": provider,
                    "kind": kind,
                    "headers": safe_headers,
                    "body": escaped(raw.data),
                    "source_ip": source_ip,
                    "flagged": True,
                    "flag_reason": reason,
                    "processed_at": now,
                },
            )
    except IntegrityError:  # the same bytes twice at once
        return ProviderCallback.objects.get(dedupe_key=digest)
    if created:
        log.warning("%s %s callback %s kept unread: %s", provider, kind, callback.pk, problem)
    return callback
