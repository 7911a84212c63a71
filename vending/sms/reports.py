"""Africa's Talking delivery-report parsing (docs/PROTOCOLS.md §2.3), shared by every sender that uses AT's form."""

from __future__ import annotations

from collections.abc import Mapping

from .base import DeliveryReport, DeliveryStatus, InvalidDeliveryReport


def parse_at_delivery_report(form: Mapping[str, str]) -> DeliveryReport:
    message_id = str(form.get("id") or "").strip()
    if not message_id:
        raise InvalidDeliveryReport("delivery report without id")
    if "\x00" in message_id:  # cannot be looked up in PostgreSQL; the webhook keeps these out already
        raise InvalidDeliveryReport("unreadable delivery report id")
    try:
        status = DeliveryStatus(str(form.get("status") or "").strip())
    except ValueError as exc:
        raise InvalidDeliveryReport(f"unknown delivery status {form.get('status')!r}") from exc
    retry_raw = str(form.get("retryCount") or "").strip()
    return DeliveryReport(
        provider_message_id=message_id,
        status=status,
        phone=str(form.get("phoneNumber") or ""),
        network_code=str(form.get("networkCode") or ""),
        failure_reason=str(form.get("failureReason") or ""),
        retry_count=int(retry_raw) if retry_raw.isdigit() else None,
        raw={str(k): str(v) for k, v in form.items()},
    )
