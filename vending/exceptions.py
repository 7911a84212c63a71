"""One vocabulary of errors (docs/DESIGN.md rule 9); each channel maps them to customer text in one place.

Every refusal of a customer's or a staff member's request is a VendingError (the classes here, and a few
children next to the service that raises them, e.g. TooManySavedMeters). The channels and the admin catch
VendingError and turn it into text: an error that knows its customer text carries its catalogue key and values
(`message_key`, `message_values`, given to the constructor); the others are told apart by class.

The other family is the payment providers' (vending.payments.base.PaymentError: ProviderUnavailable,
ProviderRejected, OutcomeUnknown, InvalidCallback). Those say what the pipeline does next (retry with backoff,
alert, ask the provider again) and must reach Celery's retry or the error log, so they are deliberately not
VendingErrors: a channel's refusal handler never swallows one. Each name is defined once
(tests/foundation/test_error_vocabulary.py).
"""

from __future__ import annotations

from collections.abc import Mapping


class VendingError(Exception):
    """Base of every error koronto reports to a customer or a member of staff.

    `str(error)` is plain English for staff and logs. `message_key` (a vending.i18n catalogue key) and its
    `message_values`, when given, let a channel say the same thing in the customer's language.
    """

    code = "vending_error"

    def __init__(
        self, message: str = "", *, message_key: str | None = None, message_values: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message_key = message_key
        self.message_values: dict[str, str] = dict(message_values or {})


class InvalidTransition(VendingError):
    code = "invalid_transition"


class BadMeterNumber(VendingError):
    """A typed meter number that is not a DRN; `problem` says why: "digits", "length" or "check"."""

    code = "bad_meter_number"

    def __init__(self, message: str, *, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


class UnknownMeter(VendingError):
    code = "unknown_meter"


class MeterBlocked(VendingError):
    code = "meter_blocked"


class MeterNotVendable(VendingError):
    """The meter's configuration cannot make a token now (vending.selectors.vendability): refused before
    any payment is asked for; customers are told to contact the utility, staff see the detail."""

    code = "meter_not_vendable"


class AmountOutOfRange(VendingError):
    """An amount the tariff refuses; vending.tariffs always gives the message key of the exact limit."""

    code = "amount_out_of_range"


class UnsupportedWallet(VendingError):
    code = "unsupported_wallet"


class RateLimited(VendingError):
    code = "rate_limited"


class StsError(VendingError):
    """The STS engine refused to make a token (the engine's own errors are wrapped in this)."""

    code = "sts_error"


class PermissionDenied(VendingError):
    code = "permission_denied"
