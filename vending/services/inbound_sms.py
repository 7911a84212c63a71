"""An inbound SMS, from the gateway's callback to our reply: receive (a row), then answer it once.

Inbound SMS is outbox work (docs/DESIGN.md rule 12): `sms_inbound_receive` commits the RECEIVED row and
records `pipeline.Work.INBOUND_SMS` with it, so the channel's task (and, if that message is lost, the outbox
sweep) answers it. `sms_inbound_answer` is that answer: it locks the row, leaves a processed one alone (no
second reply to a redelivered task), sends the reply and marks the row PROCESSED in one transaction.

What the reply says is the SMS channel's business (ussd/sms_commands.py: the parser, the commands, the
customer's language); it comes in as the `answer` function, so the core never imports the channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from vending import pipeline
from vending.models import Customer, Purchase, SmsMessage
from vending.selectors.customers import customer_of_phone
from vending.services.sms import sms_send
from vending.services.transitions import transition
from vending.states import SmsState


@dataclass(frozen=True)
class InboundAnswer:
    text: str | None  # None: nothing to send (a TOKEN's token SMS is the answer, or a flood gets silence)
    outcome: str  # for the audit trail: which answer this was, never the customer's text
    purchase: Purchase | None = None  # a BUY's purchase: the row is linked to it
    failure_reason: str = ""  # set when the message could not be handled at all


# The channel's reply to one stored message: (the locked inbound row, its sender's customer or None) -> answer.
Answerer = Callable[[SmsMessage, Customer | None], InboundAnswer]


def sms_inbound_receive(*, gateway: str, phone: str, text: str, message_id: str) -> SmsMessage | None:
    """Store one inbound message as RECEIVED work; None when the gateway repeats a message we already have."""
    try:
        with transaction.atomic():
            inbound = SmsMessage.objects.create(
                direction=SmsMessage.Direction.INBOUND,
                phone=phone,
                text=text,
                provider=gateway,
                gateway=gateway,
                provider_message_id=message_id,
                status=SmsState.RECEIVED,
            )
            pipeline.record(pipeline.Work.INBOUND_SMS, inbound.pk)
    except IntegrityError:  # (direction, provider_message_id) is unique: a repeat changes nothing
        return None
    return inbound


def sms_inbound_answer(*, sms_id: int, answer: Answerer) -> SmsMessage:
    """Answer one stored inbound SMS with `answer`'s reply and mark it processed; a processed row is returned
    as it is. The reply is queued in the same transaction and sent after the commit."""
    with transaction.atomic():
        inbound = SmsMessage.objects.select_for_update().get(pk=sms_id, direction=SmsMessage.Direction.INBOUND)
        if inbound.status != SmsState.RECEIVED:
            return inbound
        reply = answer(inbound, customer_of_phone(phone=inbound.phone))
        if reply.text:
            sms_send(phone=inbound.phone, text=reply.text, purchase=reply.purchase)
        fields: dict[str, object] = {}
        if reply.purchase is not None:
            fields["purchase"] = reply.purchase
        if reply.failure_reason:
            fields["failure_reason"] = reply.failure_reason
        inbound, _ = transition(
            inbound, SmsState.PROCESSED, actor_label=inbound.phone, reason=reply.outcome, fields=fields or None
        )
    return inbound
