"""Under /api/, turn any non-JSON error page (Django's 404, a CSRF 403, a 500) into the API's error shape."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from vending.api.errors import json_error

log = logging.getLogger(__name__)
API_PREFIX = "/api/"
_MESSAGES = {404: "No such resource.", 405: "Method not allowed.", 500: "Something went wrong on our side."}


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        return json_error(status, _MESSAGES.get(status, response.reason_phrase or "Error."))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        log.exception("partner API: unhandled error outside a view", exc_info=exception)
        return json_error(500, _MESSAGES[500])
