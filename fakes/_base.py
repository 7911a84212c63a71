"""Shared plumbing for the fake servers: threading, routing, JSON replies, request log, control API."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeHandler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"

    # -- helpers for subclasses ----------------------------------------------------------------------

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        self.reply(status, json.dumps(payload).encode(), content_type)

    def drop(self) -> None:
        """Close the connection without any reply (a dropped connection on the client side)."""
        self.close_connection = True
        self.connection.shutdown(2)

    # -- dispatch ------------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        body = self.read_body() if method == "POST" else b""
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith("/_fake/"):
            self._control(method, parts.path, body)
            return
        self.server.record(method, parts.path, dict(self.headers.items()), body)
        self.server.handle_api(self, method, parts.path, query, body)

    def _control(self, method: str, path: str, body: bytes) -> None:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            self.reply_json(400, {"error": "control body must be JSON"})
            return
        if method == "GET" and path == "/_fake/requests":
            self.reply_json(200, self.server.requests_snapshot())
        elif method == "POST" and path == "/_fake/reset":
            self.server.reset()
            self.reply_json(200, {"ok": True})
        else:
            answer = self.server.handle_control(method, path, payload)
            if answer is None:
                self.reply_json(404, {"error": f"no control endpoint {method} {path}"})
            else:
                self.reply_json(200, answer)

    def _safely(self, method: str) -> None:
        try:
            self._dispatch(method)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout is shorter than our simulated prompt): expected, not an error.
            self.close_connection = True

    def do_GET(self) -> None:
        self._safely("GET")

    def do_POST(self) -> None:
        self._safely("POST")

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet by default; the request log is what tests look at. Headers may carry credentials.
        if self.server.verbose:
            super().log_message(format, *args)


class FakeServer(ThreadingHTTPServer):
    """Base of the fakes. Subclasses implement ``handle_api`` and optionally ``handle_control``."""

    daemon_threads = True
    handler_class: type[FakeHandler] = FakeHandler

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        super().__init__((host, port), self.handler_class)
        self.verbose = verbose
        self.lock = threading.RLock()
        self.requests: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.socket.getsockname()[:2]  # an IPv4 address: (host, port)
        return f"http://{host}:{port}"

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request log ---------------------------------------------------------------------------------

    def record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "headers": headers, "body": parsed, "at": time.time()}
            )

    def requests_snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    # -- for subclasses ------------------------------------------------------------------------------

    def handle_api(self, handler: FakeHandler, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        handler.reply_json(404, {"error": "not found"})

    def handle_control(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        return None


def post_later(
    delay: float, url: str, body: bytes, content_type: str, on_done: Callable[[str, int | str], None]
) -> None:
    """POST ``body`` to ``url`` after ``delay`` seconds on a daemon thread (a provider's callback)."""

    def deliver() -> None:
        if delay > 0:
            time.sleep(delay)
        if not url.startswith(("http://", "https://")):
            on_done(url, "error: not an http(s) URL")
            return
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            data=body,
            method="POST",
            headers={"Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (scheme checked)
                on_done(url, response.status)
        except Exception as exc:  # a fake must never die on a bad callback URL; record instead
            on_done(url, f"error: {type(exc).__name__}")

    threading.Thread(target=deliver, name="fake-callback", daemon=True).start()


class CallbackReceiver(FakeServer):
    """A tiny stand-in for our own callback endpoint: records every POST and answers 200."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        super().__init__(host, port, verbose=verbose)
        self.bodies: list[tuple[str, bytes]] = []
        self._arrived = threading.Condition(self.lock)

    def handle_api(self, handler: FakeHandler, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        with self._arrived:
            self.bodies.append((path, body))
            self._arrived.notify_all()
        handler.reply_json(200, {"ResultCode": 0, "ResultDesc": "Accepted"})

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, bytes]]:
        """Block until ``count`` callbacks arrived (or timeout); return what arrived."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.bodies) >= count, timeout=timeout)
            return list(self.bodies)
