"""A lean kept-alive HTTP client for SMS gateways: Kannel's smsbox (GET) and Africa's Talking (form POST).

`requests` re-parses and re-quotes every URL and reads the proxy variables on each call: for a sendsms
GET that was a third of the CPU of a send, for an AT POST half of it. This client keeps one connection per
thread and tells the caller whether a failure happened before the request could have reached the server
(`NotReached`: refused, unresolvable, connect timeout) or after (`MaybeReached`), which decides whether
failover is safe. It speaks to the server directly: no HTTP proxy (callers that must honour one use
`requests`).
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
from urllib.parse import urlsplit


class NotReached(OSError):
    """The server certainly did not get the request."""


class MaybeReached(OSError):
    """The request may have reached the server (a read timeout, a connection dropped mid-reply)."""


class KeepAliveClient:
    def __init__(self, base_url: str, *, connect_timeout: float, read_timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self.path = parts.path or "/"
        self._connect_timeout, self._read_timeout = connect_timeout, read_timeout
        self._local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it is a kept-alive one being reused."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and not _dropped(conn.sock):
            return conn, True
        if conn is not None:
            conn.close()
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self._connect_timeout)
        try:
            conn.connect()
        except OSError as exc:  # refused, unresolvable, connect timeout: nothing was sent
            conn.close()
            raise NotReached(f"{type(exc).__name__}") from None
        assert conn.sock is not None
        conn.sock.settimeout(self._read_timeout)
        self._local.conn = conn
        return conn, False

    def get(self, path_and_query: str) -> tuple[int, str]:
        """GET `path_and_query` (already URL-encoded); returns the status and the body text."""
        return self._request("GET", path_and_query, None, {})

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST `body` to `path` with `headers`; returns the status and the body text."""
        return self._request("POST", path, body, headers)

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
        conn, reused = self._connection()
        try:
            reply, answer = _exchange(conn, method, path, body, headers)
        except _STALE as exc:
            conn.close()
            self._local.conn = None
            if not reused:
                raise MaybeReached(type(exc).__name__) from None
            # The server closed the kept-alive connection after its last answer and the close crossed our
            # request on the wire (the select() check above cannot see a FIN still in flight). Once more on
            # a fresh connection, as HTTP clients do for a stale kept-alive socket; a failure there is real.
            conn, _ = self._connection()
            try:
                reply, answer = _exchange(conn, method, path, body, headers)
            except (OSError, http.client.HTTPException) as exc2:
                conn.close()
                self._local.conn = None
                raise MaybeReached(type(exc2).__name__) from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._local.conn = None
            raise MaybeReached(type(exc).__name__) from None
        if reply.will_close:
            conn.close()
            self._local.conn = None
        return reply.status, answer.decode("utf-8", "replace")


# What a kept-alive socket that the server has already closed gives on the next request.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _exchange(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request(method, path, body=body, headers=headers)
    if _QUICKACK is not None and conn.sock is not None:
        # A server that writes its headers and its body in two segments holds the second (Nagle) until the
        # first is acknowledged, and on a kept-alive connection Linux delays that ACK by 40 ms: acknowledge at
        # once (Linux clears the flag again after a while, so it is set for every exchange).
        conn.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    reply = conn.getresponse()
    return reply, reply.read()


_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive connection that is readable has been closed by the server (EOF waiting)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
