"""M-Pesa Transaction Reversal through Daraja: give a customer's payment back (docs/REFUNDS.md).

`POST /mpesa/reversal/v1/request` with the payment's M-Pesa receipt (TransactionID) and amount; Daraja
answers at once that it accepted the request (ResponseCode "0", a ConversationID), and later POSTs the
outcome to our ResultURL (or to QueueTimeOutURL when the request timed out in its queue). Only that
result says the money went back. The initiator is an API operator of the shortcode; its password goes
encrypted with Safaricom's certificate as SecurityCredential (DARAJA_SECURITY_CREDENTIAL holds the
encrypted value, never the password). Uses DarajaProvider's OAuth token and error mapping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .base import InvalidCallback, OutcomeUnknown, ProviderNotConfigured
from .daraja import DarajaProvider, _envelope_error

REVERSAL_PATH = "/mpesa/reversal/v1/request"
COMMAND_ID = "TransactionReversal"
# The organisation receiving the reversal request: our shortcode ("11" in Safaricom's examples: an
# organisation identifier); the customer's money comes back from it.
RECEIVER_IDENTIFIER_TYPE = "11"


@dataclass(frozen=True)
class ReversalAccepted:
    conversation_id: str
    originator_conversation_id: str
    message: str = ""


@dataclass(frozen=True)
class ReversalResult:
    """One reversal result callback: ok, the ids it names, the reversal's own TransactionID."""

    ok: bool
    conversation_id: str
    originator_conversation_id: str
    transaction_id: str = ""
    result_code: str = ""
    message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


def request_reversal(
    provider: DarajaProvider,
    *,
    initiator: str,
    security_credential: str,
    receipt: str,
    amount: Decimal,
    result_url: str,
    timeout_url: str,
    remarks: str,
) -> ReversalAccepted:
    """Ask Daraja to reverse the payment `receipt`. OutcomeUnknown: it may have been accepted (query the
    result later, never resend blindly); ProviderUnavailable: retry; ProviderRejected: do not."""
    if not initiator or not security_credential:
        raise ProviderNotConfigured("Daraja reversal needs DARAJA_INITIATOR and DARAJA_SECURITY_CREDENTIAL")
    payload = {
        "Initiator": initiator,
        "SecurityCredential": security_credential,
        "CommandID": COMMAND_ID,
        "TransactionID": receipt,
        "Amount": str(int(amount)),
        "ReceiverParty": provider.config.shortcode,
        "RecieverIdentifierType": RECEIVER_IDENTIFIER_TYPE,  # sic: Daraja's own spelling on the wire
        "ResultURL": result_url,
        "QueueTimeOutURL": timeout_url,
        "Remarks": (remarks or "Refund")[:100],
        "Occasion": "",
    }
    reply = provider._call(REVERSAL_PATH, payload)  # the STK calls' bearer-token POST
    body = reply.body if isinstance(reply.body, dict) else {}
    if reply.status == 200 and str(body.get("ResponseCode")) == "0" and body.get("ConversationID"):
        return ReversalAccepted(
            conversation_id=str(body["ConversationID"]),
            originator_conversation_id=str(body.get("OriginatorConversationID", "")),
            message=str(body.get("ResponseDescription", "")),
        )
    raise _envelope_error(reply, body)


def parse_reversal_result(body: bytes) -> ReversalResult:
    """A ResultURL (or QueueTimeOutURL) POST. ResultCode 0 (a number or "0") is success; anything else,
    e.g. "R000002" (original transaction not found), is a failed reversal."""
    try:
        data = json.loads(body)
        result = data["Result"]
        conversation_id = str(result.get("ConversationID") or "")
        originator = str(result.get("OriginatorConversationID") or "")
        code = str(result["ResultCode"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidCallback(f"not a reversal result: {type(exc).__name__}") from exc
    if not (conversation_id or originator):
        raise InvalidCallback("a reversal result without a conversation id")
    return ReversalResult(
        ok=code == "0",
        conversation_id=conversation_id,
        originator_conversation_id=originator,
        transaction_id=str(result.get("TransactionID") or ""),
        result_code=code,
        message=str(result.get("ResultDesc", ""))[:255],
        raw=data,
    )


__all__ = ["OutcomeUnknown", "ReversalAccepted", "ReversalResult", "parse_reversal_result", "request_reversal"]
