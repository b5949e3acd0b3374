"""A real HTTP server on 127.0.0.1 for the webhook tests: it records every request and
answers from a script (fail some requests with 500, 429 + Retry-After, ...).

Like a careful receiver, it applies each Idempotency-Key once: `applied` holds the
batches it acted on, `requests` every request that reached it (re-sends included).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    key: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"ok": true}'
    # Called after the request is recorded and before the reply is written (e.g. to
    # block until the client process has been killed).
    before_reply: Callable[[], None] | None = None
    # Apply the batch but close the connection without replying (the client never
    # hears back, as when it dies or the network drops after the receiver committed).
    hang_up: bool = False


class LoopbackServer:
    def __init__(self, script: Callable[[int, Received], Reply] | None = None) -> None:
        self.script = script or (lambda number, received: Reply())
        self.requests: list[Received] = []
        self.applied: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/audience"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                key = self.headers.get("Idempotency-Key")
                received = Received(key, body, dict(self.headers), time.monotonic(), 0)
                with outer.lock:
                    number = len(outer.requests) + 1
                    reply = outer.script(number, received)
                    received.status = reply.status
                    outer.requests.append(received)
                    if 200 <= reply.status < 300 and key is not None:
                        outer.applied.setdefault(key, body)
                if reply.before_reply is not None:
                    reply.before_reply()
                if reply.hang_up:
                    self.close_connection = True
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed while we held the reply

        return Handler

    def records(self, operation: str) -> list[dict[str, Any]]:
        """Records the receiver applied (each idempotency key once), in arrival order."""
        return [
            record
            for body in self.applied.values()
            if body["operation"] == operation
            for record in body["records"]
        ]


@contextmanager
def loopback(script: Callable[[int, Received], Reply] | None = None) -> Iterator[LoopbackServer]:
    server = LoopbackServer(script)
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
