"""Thin Celery tasks for back-office work: load by id, call one service, chain the next chunk."""

from celery import shared_task

from backoffice.models import KeyChangeItem
from backoffice.services.campaign_chunks import campaign_process_chunk


@shared_task(acks_late=True)
def campaign_run_task(campaign_id: int) -> int:
    """Process one chunk; enqueue the next while items are pending. A redelivery is safe: settled items
    are never taken again, and a chunk's writes commit together."""
    processed = campaign_process_chunk(campaign_id=campaign_id)
    if (
        processed
        and KeyChangeItem.objects.filter(campaign_id=campaign_id, status=KeyChangeItem.Status.PENDING).exists()
    ):
        campaign_run_task.delay(campaign_id)
    return processed
