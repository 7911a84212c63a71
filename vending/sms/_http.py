"""Telling a failed HTTP call that never reached the gateway from one that may have delivered the request.

Failing over to another gateway is safe only in the first case: after a read timeout or a connection
dropped mid-reply the first gateway may already be sending the SMS.
"""

from __future__ import annotations

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError


def never_reached(exc: requests.RequestException) -> bool:
    """True when the request certainly did not reach the server (refused, unresolvable, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)
