"""One vocabulary of errors (DESIGN.md rule 9); each channel maps them to customer text in one place."""


class VendingError(Exception):
    """Base of every error koronto reports to a customer or a member of staff."""

    code = "vending_error"


class InvalidTransition(VendingError):
    code = "invalid_transition"


class BadMeterNumber(VendingError):
    code = "bad_meter_number"


class UnknownMeter(VendingError):
    code = "unknown_meter"


class MeterBlocked(VendingError):
    code = "meter_blocked"


class MeterNeedsKeyChange(MeterBlocked):
    """The meter's base date has run out of TIDs: it cannot take a token until its key is changed."""

    code = "meter_needs_key_change"


class MeterNotVendable(VendingError):
    """The meter's configuration cannot make a token now (vending.selectors.vendability): refused before
    any payment is asked for; customers are told to contact the utility, staff see the detail."""

    code = "meter_not_vendable"


class AmountOutOfRange(VendingError):
    code = "amount_out_of_range"


class UnsupportedWallet(VendingError):
    code = "unsupported_wallet"


class PaymentDeclined(VendingError):
    code = "payment_declined"


class ProviderUnavailable(VendingError):
    code = "provider_unavailable"


class RateLimited(VendingError):
    code = "rate_limited"


class StsError(VendingError):
    """The STS engine refused to make a token (the engine's own errors are wrapped in this)."""

    code = "sts_error"


class PermissionDenied(VendingError):
    code = "permission_denied"
