"""Servers with readiness: start in the background, poll /health, always stop (and interactive children).

Used for `swift deploy` (OpenAI-compatible server on vLLM). The server runs in its own process group through
:class:`swiftctl.launch.process.Background`, so stopping it also stops vLLM's engine processes.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from swiftctl.errors import SwiftctlError
from swiftctl.launch.process import Background, CommandNotFound, _exit_code, _flush


def check_port_free(host: str, port: int) -> None:
    """Fail now if host:port is taken (ms-swift would silently move to another port)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SwiftctlError(f"port {port} on {host} is already in use",
                                    hint=f"stop what listens there (ss -ltnp 'sport = :{port}') or pass --port "
                                         f"{port + 1}") from exc
            raise SwiftctlError(f"cannot bind {host}:{port}: {exc.strerror}",
                                hint="pass --host 127.0.0.1 and a free --port") from exc


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def health_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextlib.contextmanager
def serving(argv: Sequence[str], *, env: Mapping[str, str], log_path: Path, health_url: str,
            timeout: float = 600.0) -> Iterator[Background]:
    """Start the server, wait until ``health_url`` answers 200, yield it; stop its whole group on exit."""
    server = Background(argv, log_path=log_path, env=env)
    with server:
        deadline = time.monotonic() + timeout
        while not health_ok(health_url):
            if not server.running:
                raise SwiftctlError(f"the server exited (code {server.returncode()}) before it was ready\n"
                                    + "\n".join("  | " + ln for ln in server.log_tail(12).splitlines()),
                                    hint=f"read the whole log: {log_path}")
            if time.monotonic() > deadline:
                raise SwiftctlError(f"the server was not ready within {timeout:g} s",
                                    hint=f"read its log: {log_path}; raise --ready-timeout on a slow machine")
            time.sleep(1.0)
        yield server


def run_interactive(argv: Sequence[str], *, env: Mapping[str, str], feed: str | None = None) -> int:
    """A child that owns the terminal (interactive chat): stdin/stdout inherited (``feed``: its stdin instead).

    It stays in our process group (a child in its own group could not read the terminal: SIGTTIN), so Ctrl-C
    reaches it straight from the terminal; we ignore SIGINT meanwhile and pass its exit code through.
    """
    import signal

    _flush()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        try:
            proc = subprocess.Popen(list(argv), env=dict(env), stdin=None if feed is None else subprocess.PIPE)
        except FileNotFoundError as exc:
            raise CommandNotFound(f"{argv[0]} not found", hint=f"install {argv[0]} or put it on PATH") from exc
        try:
            if feed is not None:
                proc.communicate(feed.encode("utf-8"))
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return _exit_code(returncode)
