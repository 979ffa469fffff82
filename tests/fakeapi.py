"""A scriptable HTTP server on 127.0.0.1 for driving the real API clients in tests.

Routes are ``(method, regex)`` → handler; a handler gets a :class:`Req` and returns a
:class:`Reply` (a dict or list body is sent as JSON). Faults are queued per path prefix and
replace the next matching responses: an HTTP status, a body that is not JSON, or :class:`Drop`,
which announces a full body, sends part of it and closes the connection (a connection dropped
mid-page). Every request is recorded in :attr:`FakeAPI.requests`.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (a slow server).
    delay: float = 0.0


@dataclass
class Drop:
    """Send the headers and the first ``fraction`` of ``reply``'s body (default: the real
    response's), then hang up."""

    reply: Reply | None = None
    fraction: float = 0.5


@dataclass
class Slow:
    """Answer with the real response after ``delay`` seconds (a server slower than the timeout)."""

    delay: float


class FakeAPI:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Reply | Drop]]] = []
        self.faults: deque[tuple[str, Callable[[Reply], Reply | Drop]]] = deque()
        self.requests: list[Req] = []
        self.on_request: Callable[[Req], None] | None = None
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                api._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # Answer without Nagle's delay: headers and body go out in separate writes, and the
        # client's delayed ACK would add about 40 ms to every request. Accepted sockets
        # inherit the option from the listening one.
        self.server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> FakeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, pattern: str):
        def register(handler):
            self.routes.append((method, re.compile(pattern + r"\Z"), handler))
            return handler
        return register

    def fail(self, prefix: str, *faults: Reply | Drop | Slow | str) -> None:
        """Replace the next responses to paths starting with ``prefix``, in order. A ``str`` is
        sent as a 200 body that is not valid JSON; ``Drop()`` with no reply drops the real one."""
        for fault in faults:
            self.faults.append((prefix, _as_fault(fault)))

    def paths(self, prefix: str = "") -> list[str]:
        return [r.path for r in self.requests if r.path.startswith(prefix)]

    # -- serving -----------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        req = Req(h.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                  {k.lower(): v for k, v in h.headers.items()}, h.rfile.read(length) if length else b"")
        with self._lock:
            self.requests.append(req)
            fault = None
            for i, (prefix, make) in enumerate(self.faults):
                if req.path.startswith(prefix):
                    fault = make
                    del self.faults[i]
                    break
        if self.on_request is not None:
            self.on_request(req)
        reply = self._dispatch(req)
        if fault is not None:
            reply = fault(reply if isinstance(reply, Reply) else reply.reply)
        self._send(h, reply)

    def _dispatch(self, req: Req) -> Reply | Drop:
        for method, pattern, handler in self.routes:
            match = pattern.match(req.path)
            if method == req.method and match:
                return handler(req, **match.groupdict())
        return Reply(404, {"error": 404, "message": f"fake API has no route {req.method} {req.path}"})

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply | Drop) -> None:
        drop = reply if isinstance(reply, Drop) else None
        reply = drop.reply if drop else reply
        if reply.delay:
            threading.Event().wait(reply.delay)
        body = reply.body
        if isinstance(body, dict | list):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        h.send_response(reply.status)
        headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if drop:
            h.wfile.write(data[: int(len(data) * drop.fraction)])
            h.wfile.flush()
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
            return
        h.wfile.write(data)


def _as_fault(fault: Reply | Drop | Slow | str) -> Callable[[Reply], Reply | Drop]:
    if isinstance(fault, Slow):
        return lambda real: Reply(real.status, real.body, real.headers, delay=fault.delay)
    if isinstance(fault, str):
        return lambda real: Reply(200, fault, real.headers)
    if isinstance(fault, Drop):
        return lambda real: Drop(fault.reply if fault.reply is not None else real, fault.fraction)
    return lambda real: fault
