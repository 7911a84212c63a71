"""One error shape for every answer of the partner API: {"code": ..., "message": ..., "field": ...}.

`api_exception_handler` maps DRF's exceptions and koronto's own (VendingError) to stable codes;
anything unexpected becomes a logged 500 in the same shape. The middleware covers what never reaches a
DRF view (an unknown path, Django's own 4xx pages), so no HTML error page reaches an API client.
"""

import json
import logging
from typing import Any

from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from vending.exceptions import AmountOutOfRange, MeterBlocked, StsError, UnsupportedWallet, VendingError

log = logging.getLogger(__name__)

# DRF's exception classes → our codes (DRF's own `default_code`s are lower-case and less stable).
_DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ParseError, "PARSE_ERROR"),
    (exceptions.AuthenticationFailed, "NOT_AUTHENTICATED"),
    (exceptions.NotAuthenticated, "NOT_AUTHENTICATED"),
    (exceptions.PermissionDenied, "PERMISSION_DENIED"),
    (exceptions.NotFound, "NOT_FOUND"),
    (exceptions.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (exceptions.NotAcceptable, "NOT_ACCEPTABLE"),
    (exceptions.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (exceptions.Throttled, "THROTTLED"),
    (exceptions.ValidationError, "VALIDATION_ERROR"),
]

# Status per code of a refusal by the services (vending.services.agents.AgentError and its kin).
CODE_STATUS: dict[str, int] = {
    "VALIDATION_ERROR": 400,
    "NOT_FOUND": 404,
    "METER_NOT_FOUND": 404,
    "DUPLICATE_RECORD": 409,
    "ALREADY_CONFIRMED": 409,
    "ALREADY_REVERSED": 409,
    "REVERSAL_WINDOW_CLOSED": 409,
    "REVERSAL_NOT_ALLOWED": 409,
    "NOT_COMPLETED": 409,
    "AGENT_SUSPENDED": 403,
    "LIMIT_EXCEEDED": 422,
    "AMOUNT_TOO_LOW": 422,
    "AMOUNT_TOO_HIGH": 422,
    "AMOUNT_INVALID": 422,
    "CURRENCY_MISMATCH": 422,
    "WALLET_NOT_SUPPORTED": 422,
    "METER_ID_BLOCKED": 422,
    "METER_KEY_INVALID": 422,
    "OUTCOME_UNKNOWN": 503,
}

# koronto's shared error vocabulary (vending/exceptions.py) → API codes.
_VENDING_CODES: list[tuple[type[VendingError], str]] = [
    (MeterBlocked, "METER_ID_BLOCKED"),
    (AmountOutOfRange, "AMOUNT_INVALID"),
    (UnsupportedWallet, "WALLET_NOT_SUPPORTED"),
    # The STS engine (or the virtual meter's check) refused to make the token: nothing was sold.
    (StsError, "METER_KEY_INVALID"),
]

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "NOT_AUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "THROTTLED",
    500: "SERVER_ERROR",
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field}


def error_response(code: str, message: str, field: str | None = None, status_code: int | None = None) -> Response:
    return Response(error_body(code, message, field), status=status_code or CODE_STATUS.get(code, 400))


def _first_validation_error(detail: Any, path: str = "") -> tuple[str | None, str]:
    """The first (field, message) of a DRF ValidationError's nested detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            return _first_validation_error(value, f"{path}.{name}" if path and name else (name or path))
    if isinstance(detail, list) and detail:
        return _first_validation_error(detail[0], path)
    return (path or None), str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    from vending.services.agents import AgentError

    if isinstance(exc, AgentError):
        return error_response(exc.code, str(exc), exc.field)
    for klass, code in _VENDING_CODES:
        if isinstance(exc, klass):
            return error_response(code, str(exc), "amount" if code == "AMOUNT_INVALID" else None)
    response = exception_handler(exc, context)  # Http404 and Django's PermissionDenied become DRF's
    if response is None:
        log.exception("partner API: unexpected error", exc_info=exc)
        return error_response(
            "SERVER_ERROR", "Something went wrong on our side; retry with the same id.", status_code=500
        )
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_validation_error(exc.detail)
        response.data = error_body("VALIDATION_ERROR", message, field)
        return response
    code = next(
        (c for klass, c in _DRF_CODES if isinstance(exc, klass)), _STATUS_CODES.get(response.status_code, "ERROR")
    )
    detail = getattr(exc, "detail", str(exc))
    response.data = error_body(code, str(detail))
    return response


def json_error(status_code: int, message: str, code: str | None = None) -> HttpResponse:
    """A plain Django response in the API's error shape (for the middleware and URL-level handlers)."""
    code = code or _STATUS_CODES.get(status_code, "ERROR")
    return HttpResponse(json.dumps(error_body(code, message)), status=status_code, content_type="application/json")
