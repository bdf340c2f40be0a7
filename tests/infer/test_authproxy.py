"""The auth proxy in front of `swift deploy`, over real sockets against a real HTTP backend (stdlib server)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from swiftctl.infer.authproxy import auth_proxy
from swiftctl.launch.serve import free_port

KEY = "sk-proxy-test"


class Backend(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        return

    def _answer(self) -> None:
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for i in range(3):
                self.wfile.write(f"data: {i}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.05)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"method": self.command, "path": self.path, "auth": self.headers.get("Authorization"),
                           "body": self.rfile.read(length).decode() if length else None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.fixture(scope="module")
def proxy():
    backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    thread = threading.Thread(target=backend.serve_forever, daemon=True)
    thread.start()
    with auth_proxy("127.0.0.1", free_port(), KEY, ("127.0.0.1", backend.server_address[1])) as url:
        yield url
    backend.shutdown()
    backend.server_close()


def _get(url: str, key: str | None = None, data: bytes | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.parametrize("path", ["/v1/models", "/v1/chat/completions", "/v1/completions", "/metrics", "/", "/health/x"])
@pytest.mark.parametrize("key", [None, "wrong", "", KEY + "x"])
def test_every_route_but_health_needs_the_key(proxy, path, key):
    status, body = _get(proxy + path, key)
    assert status == 401
    assert "API key" in json.loads(body)["error"]["message"]


def test_health_is_open_and_the_key_opens_the_rest(proxy):
    assert _get(proxy + "/health")[0] == 200
    status, body = _get(proxy + "/v1/chat/completions", KEY, data=b'{"x": 1}')
    answer = json.loads(body)
    assert status == 200 and answer["method"] == "POST" and answer["body"] == '{"x": 1}'
    assert answer["auth"] is None  # the key stops at the proxy
    status, body = _get(proxy + "/v1/models?a=1", KEY)
    assert status == 200 and json.loads(body)["path"] == "/v1/models?a=1"


def test_streaming_is_relayed(proxy):
    status, body = _get(proxy + "/stream", KEY)
    assert status == 200 and body == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
