"""USSD session state in the shared cache (Redis in production), as JSON with a TTL.

Two records:
- the session, keyed by sessionId and phone: the machine's state, the customer, what earlier hops read
  (`reads`, see ussd/effects.py), and the last hop's text and reply (an aggregator retrying a hop gets the
  same reply, and the machine does not run twice);
- the phone's last place, keyed by phone: what a new dial from that phone within the resume window may
  pick up again. Ended sessions clear it.

Every hop reads both records in one round trip and writes them in one more. With Django's RedisCache the
records go through the cache's own redis-py client as plain JSON strings (one MGET, one pipelined SET/DEL;
vending/rediscache.py says why). Any other cache backend (the file cache of a development machine) goes
through the Django cache API; both paths use the same keys, so `cache.delete(_place_key(phone))` works.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from vending.rediscache import raw_client

_PREFIX = "ussd:v2"  # v2: raw JSON values in Redis (v1 was pickled by Django's cache API)


@dataclass
class Session:
    customer_id: int
    last_text: str = ""
    last_reply: str = ""
    ended: bool = False
    machine: dict[str, Any] = field(default_factory=dict)
    reads: dict[str, Any] = field(default_factory=dict)  # earlier hops' reads kept for later ones (effects.py)

    def to_json(self) -> str:
        return json.dumps(
            {"customer_id": self.customer_id, "last_text": self.last_text, "last_reply": self.last_reply,
             "ended": self.ended, "machine": self.machine, "reads": self.reads},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Session | None:
        """The stored session, or None for anything unreadable (a record from another version: start again)."""
        try:
            data = json.loads(raw)
            session = cls(**data)
        except (TypeError, ValueError):
            return None
        if not isinstance(session.customer_id, int) or not isinstance(session.machine, dict):
            return None
        if not isinstance(session.reads, dict):
            session.reads = {}
        return session


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
    client = raw_client(cache)
    if client is not None:
        raw, place = client.mget([cache.make_key(session_key), cache.make_key(place_key)])
    else:
        found = cache.get_many([session_key, place_key])
        raw, place = found.get(session_key), found.get(place_key)
    session = Session.from_json(raw) if raw else None
    if isinstance(place, bytes):
        place = place.decode("utf-8", "replace")
    return session, place


def save(session_id: str, phone: str, session: Session, *, now: datetime) -> None:
    """Store the session, and (while it is open) the phone's place for resuming, in one round trip."""
    session_key, place_key = _session_key(session_id, phone), _place_key(phone)
    ttl = settings.USSD_SESSION_TTL_SECONDS
    place = None
    if not session.ended:
        state = session.machine
        if state.get("screen") == "resume":  # offered but not yet taken: keep the place it offers
            state = state.get("data", {}).get("saved", state)
        place = json.dumps({"at": now.timestamp(), "state": state}, separators=(",", ":"))
    client = raw_client(cache)
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.set(cache.make_key(session_key), session.to_json(), ex=ttl)
        if place is None:
            pipe.delete(cache.make_key(place_key))
        else:
            pipe.set(cache.make_key(place_key), place, ex=ttl)
        pipe.execute()
        return
    records = {session_key: session.to_json()}
    if place is not None:
        records[place_key] = place
    cache.set_many(records, timeout=ttl)
    if place is None:
        cache.delete(place_key)


def resumable(place: str | None, *, now: datetime) -> dict[str, Any] | None:
    """The machine state a new dial may resume (`place` from `load`), if the last one dropped within the window."""
    raw = place
    if not raw:
        return None
    try:
        loaded = json.loads(raw)
        age = now.timestamp() - float(loaded["at"])
        state = loaded["state"]
    except (TypeError, ValueError, KeyError):
        return None
    if not 0 <= age <= settings.USSD_RESUME_WINDOW_SECONDS or not isinstance(state, dict):
        return None
    return state
