"""USSD session state in the shared cache (Redis in production), as JSON with a TTL.

Two records:
- the session, keyed by sessionId and phone: the machine's state, the customer, and the last hop's text and
  reply (an aggregator retrying a hop gets the same reply, and the machine does not run twice);
- the phone's last place, keyed by phone: what a new dial from that phone within the resume window may
  pick up again. Ended sessions clear it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

_PREFIX = "ussd:v1"


@dataclass
class Session:
    customer_id: int
    last_text: str = ""
    last_reply: str = ""
    ended: bool = False
    machine: dict[str, Any] = field(default_factory=dict)


def _digest(*parts: str) -> str:
    # Aggregator ids are arbitrary text: hash them into short, cache-safe keys.
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:40]


def _session_key(session_id: str, phone: str) -> str:
    return f"{_PREFIX}:session:{_digest(session_id, phone)}"


def _place_key(phone: str) -> str:
    return f"{_PREFIX}:place:{_digest(phone)}"


def load(session_id: str, phone: str) -> tuple[Session | None, str | None]:
    """The session, if any, and the phone's last place (raw, for `resumable`), in one round trip."""
    session_key, place_key = _session_key(session_id, phone), _place_key(phone)
    found = cache.get_many([session_key, place_key])
    raw = found.get(session_key)
    session = None
    if raw:
        try:
            session = Session(**json.loads(raw))
        except (TypeError, ValueError):
            session = None  # a record from another version: start the conversation again
    return session, found.get(place_key)


def save(session_id: str, phone: str, session: Session, *, now: datetime) -> None:
    """Store the session, and (while it is open) the phone's place for resuming, in one round trip."""
    records = {_session_key(session_id, phone): json.dumps(asdict(session), separators=(",", ":"))}
    if not session.ended:
        state = session.machine
        if state.get("screen") == "resume":  # offered but not yet taken: keep the place it offers
            state = state.get("data", {}).get("saved", state)
        place = {"at": now.timestamp(), "state": state}
        records[_place_key(phone)] = json.dumps(place, separators=(",", ":"))
    cache.set_many(records, timeout=settings.USSD_SESSION_TTL_SECONDS)
    if session.ended:
        cache.delete(_place_key(phone))


def resumable(place: str | None, *, now: datetime) -> dict[str, Any] | None:
    """The machine state a new dial may resume (`place` from `load`), if the last one dropped within the window."""
    raw = place
    if not raw:
        return None
    try:
        place = json.loads(raw)
        age = now.timestamp() - float(place["at"])
        state = place["state"]
    except (TypeError, ValueError, KeyError):
        return None
    if not 0 <= age <= settings.USSD_RESUME_WINDOW_SECONDS or not isinstance(state, dict):
        return None
    return state
