"""USSD session state in the shared cache (Redis in production), as JSON with a TTL.

Two records:
- the session, keyed by sessionId and phone: the machine's state, the customer, what earlier hops read
  (`reads`, see ussd/effects.py), the input history (`last_text`: the gateway's own for Africa's Talking,
  kept here for gateways that send only the latest input), and the last request's key and reply (a
  gateway repeating a request gets the same reply, and the machine does not run twice);
- the phone's last place, keyed by phone: what a new dial from that phone within the resume window may
  pick up again, with the session id it came from (a resumed purchase keeps that session's idempotency
  key, so a confirm that reached us from the dropped session and one from the resumed session are one
  purchase). Ended sessions clear it; a network timeout does not.

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
    last_key: str = ""  # Hop.request_key of the last request answered
    origin: str = ""  # the session id this dialogue was resumed from ("" when it was not resumed)
    offered: str = ""  # the session id of the place offered on the resume screen
    timed_out_at: float = 0.0  # when the gateway said the network dropped this session (0: never)
    last_notice: str = ""  # Hop.request_key of the last release/timeout notice (a repeat is not recorded twice)

    def to_json(self) -> str:
        return json.dumps(
            {
                "customer_id": self.customer_id,
                "last_text": self.last_text,
                "last_reply": self.last_reply,
                "ended": self.ended,
                "machine": self.machine,
                "reads": self.reads,
                "last_key": self.last_key,
                "origin": self.origin,
                "offered": self.offered,
                "timed_out_at": self.timed_out_at,
                "last_notice": self.last_notice,
            },
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
        state, origin = session.machine, session.origin or session_id
        if state.get("screen") == "resume":  # offered but not yet taken: keep the place it offers
            state = state.get("data", {}).get("saved", state)
            origin = session.offered or origin
        place = json.dumps({"at": now.timestamp(), "state": state, "session": origin}, separators=(",", ":"))
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
    found = _place(place, now=now)
    return found[0] if found else None


def place_session(place: str | None, *, now: datetime) -> str:
    """The session id a resumable place came from ("" if none, or from a version that did not record it)."""
    found = _place(place, now=now)
    return found[1] if found else ""


def _place(raw: str | None, *, now: datetime) -> tuple[dict[str, Any], str] | None:
    if not raw:
        return None
    try:
        place = json.loads(raw)
        age = now.timestamp() - float(place["at"])
        state = place["state"]
        origin = str(place.get("session", ""))
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    if not 0 <= age <= settings.USSD_RESUME_WINDOW_SECONDS or not isinstance(state, dict):
        return None
    return state, origin
