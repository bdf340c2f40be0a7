"""A tiny authenticating reverse proxy in front of `swift deploy`.

ms-swift 4.6's deploy checks the API key only on its completion routes and answers a missing key with HTTP 400,
so `/v1/models` answered anyone. And to check a key, ms-swift must be given it, and its argument dump then writes it
into the server log. So swiftctl keeps the key to itself: ms-swift listens on a private loopback port without a
key, and this proxy listens where the user asked, answers 401 on every route but ``/health`` unless the request
carries ``Authorization: Bearer KEY``, and streams everything else through unchanged (SSE included: the response
is relayed as it arrives and the connection closes at its end).
"""

from __future__ import annotations

import contextlib
import hmac
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OPEN_PATHS = frozenset({"/health"})
_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                  "transfer-encoding", "upgrade", "host", "content-length"})


def _authorized(header: str | None, key: str) -> bool:
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


def _handler(key: str, backend: tuple[str, int], timeout: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "swiftctl-auth"

        def log_message(self, format: str, *args) -> None:  # no access log: the terminal belongs to the user
            return

        def _deny(self) -> None:
            body = json.dumps({"error": {"message": "missing or wrong API key: send 'Authorization: Bearer <key>'",
                                         "type": "invalid_request_error", "code": 401}}).encode()
            self.send_response(401)
            self.send_header("WWW-Authenticate", "Bearer")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _relay(self) -> None:
            if self.path.split("?", 1)[0] not in OPEN_PATHS and not _authorized(self.headers.get("Authorization"), key):
                self._deny()
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP and k.lower() != "authorization"}
            conn = http.client.HTTPConnection(*backend, timeout=timeout)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                self.send_response(resp.status, resp.reason)
                for name, value in resp.getheaders():
                    if name.lower() not in _HOP:
                        self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                while chunk := resp.read1(65536):
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (OSError, http.client.HTTPException):
                with contextlib.suppress(OSError):
                    self.send_error(502, "the model server did not answer")
            finally:
                conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _relay

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, family: int) -> None:
        self.address_family = family
        super().__init__(address, handler)


@contextlib.contextmanager
def auth_proxy(host: str, port: int, key: str, backend: tuple[str, int], *, timeout: float = 600.0) -> Iterator[str]:
    """Serve the proxy on host:port in a thread while the block runs; yields its base URL."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = _Server((host, port), _handler(key, backend, timeout), family)
    thread = threading.Thread(target=server.serve_forever, name="swiftctl-auth-proxy", daemon=True)
    thread.start()
    try:
        yield f"http://{'[' + host + ']' if ':' in host else host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
