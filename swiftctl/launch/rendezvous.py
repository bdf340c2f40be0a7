"""swiftctl's own node rendezvous for multi-node jobs, before and during `swift sft`.

Every node runs ``swiftctl train JOB --node-rank N``. Before any node starts ms-swift:
- node 0 (after its output-dir checks) listens on ``MASTER_ADDR:MASTER_PORT+1`` (the control port; torchrun's own
  store keeps ``MASTER_PORT``) and waits for every other node;
- node N>0 connects (retrying until the rendezvous timeout, then one message naming address:port) and sends its
  rank, host and the sha256 of its job file and resolved job;
- node 0 checks ranks and job hashes: a mismatch stops every node with the same message (the keys that differ);
  otherwise it answers with the checkpoint to resume from, so all nodes resume alike.

The sockets stay open while ms-swift runs: a node that is interrupted or fails tells the others (``exit`` event),
and a node that vanishes closes its socket; either way every other node interrupts its own run, so Ctrl-C on one
node stops all of them. Messages are single JSON lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from swiftctl.errors import SwiftctlError

CONTROL_OFFSET = 1
DEFAULT_TIMEOUT = 300.0


def control_port(master_port: int) -> int:
    return master_port + CONTROL_OFFSET


@dataclass
class Hello:
    rank: int
    host: str
    job_sha256: str
    job: dict[str, Any]
    nnodes: int


@dataclass
class NodeRecord:
    """One node of the run as node 0 saw it (recorded in the manifest)."""

    rank: int
    host: str
    job_sha256: str
    exit_code: int | None = None


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(json.dumps(message, ensure_ascii=False).encode() + b"\n")


class _Lines:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""

    def read(self, timeout: float | None) -> dict[str, Any] | None:
        """Next message, or None at EOF; socket.timeout when none came within ``timeout``."""
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            return None


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def job_difference(mine: dict[str, Any], theirs: dict[str, Any], limit: int = 4) -> str:
    a, b = _flat(mine), _flat(theirs)
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    shown = [f"{k}: {a.get(k)!r} on node 0, {b.get(k)!r} there" for k in keys[:limit]]
    more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return "; ".join(shown) + more if shown else "same resolved job, different file text"


class _Channel:
    """The open control sockets of a running node; interrupts this process when a peer fails or vanishes."""

    def __init__(self, peers: dict[int, tuple[socket.socket, _Lines]]) -> None:
        self.peers = peers
        self.exit_codes: dict[int, int] = {}
        self.stopped_by: str | None = None
        self._pid: int | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()

    def watch(self, pid_ready: Callable[[], int | None]) -> None:
        self._pid_ready = pid_ready
        for rank, (_, lines) in self.peers.items():
            threading.Thread(target=self._follow, args=(rank, lines), daemon=True).start()

    def _follow(self, rank: int, lines: _Lines) -> None:
        while True:
            try:
                msg = lines.read(None)
            except OSError:
                msg = None
            if msg is not None and msg.get("event") == "exit":
                code = int(msg.get("code", 1))
                self.exit_codes[rank] = code
                if code != 0:
                    self._interrupt(f"node {rank} stopped (exit {code})")
                continue
            if msg is None:
                if rank not in self.exit_codes:
                    self._interrupt(f"node {rank} vanished (control connection closed)")
                return

    def _interrupt(self, why: str) -> None:
        with self._lock:
            if self._done.is_set() or self.stopped_by is not None:
                return
            self.stopped_by = why
        # the run's own signal forwarding stops ms-swift's whole process group, as Ctrl-C here would
        deadline = time.monotonic() + 60
        while not self._done.is_set() and time.monotonic() < deadline:
            if self._pid_ready() is not None:
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.2)

    def finish(self, code: int, wait_for_peers: float = 0.0) -> dict[int, int]:
        """Tell every peer how this node ended; node 0 waits a little for the others' exit codes."""
        self._done.set()
        for sock, _ in self.peers.values():
            _send(sock, {"event": "exit", "code": code})
        deadline = time.monotonic() + wait_for_peers
        while time.monotonic() < deadline and len(self.exit_codes) < len(self.peers):
            time.sleep(0.2)
        for sock, _ in self.peers.values():
            with contextlib.suppress(OSError):
                sock.close()
        return dict(self.exit_codes)


@dataclass
class Joined:
    """The outcome of the rendezvous on this node."""

    channel: _Channel
    nodes: list[NodeRecord] = field(default_factory=list)
    resume: str | None = None


def _bind(addr: str, port: int) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        try:
            server.bind((addr, port))
        except OSError:  # MASTER_ADDR names another interface than ours (e.g. a NAT address): listen on all
            server.bind(("0.0.0.0", port))
    except OSError:
        server.close()
        raise SwiftctlError(f"control port {port} (MASTER_PORT+{CONTROL_OFFSET}) is already in use on node 0",
                            hint="set resources.master_port to a port whose next port is free too",
                            location="resources.master_port") from None
    server.listen(64)
    return server


def host_nodes(me: Hello, addr: str, port: int, *, timeout: float, resume: str | None) -> Joined:
    """Node 0: wait for nodes 1..N-1, check them, answer; raise one message on a timeout or a mismatch."""
    server = _bind(addr, port)
    peers: dict[int, tuple[socket.socket, _Lines]] = {}
    nodes = [NodeRecord(0, me.host, me.job_sha256)]
    deadline = time.monotonic() + timeout
    error: str | None = None
    try:
        while len(peers) < me.nnodes - 1 and error is None:
            left = deadline - time.monotonic()
            if left <= 0:
                missing = sorted(set(range(1, me.nnodes)) - set(peers))
                error = (f"rendezvous timed out after {timeout:g} s: node(s) {', '.join(map(str, missing))} never "
                         f"reached node 0 at {addr}:{port}")
                break
            server.settimeout(min(left, 1.0))
            try:
                sock, _ = server.accept()
            except TimeoutError:
                continue
            lines = _Lines(sock)
            try:
                msg = lines.read(10.0)
            except OSError:
                msg = None
            if not msg or "rank" not in msg:
                sock.close()
                continue
            hello = Hello(**{k: msg[k] for k in ("rank", "host", "job_sha256", "job", "nnodes")})
            error = _check(me, hello, peers)
            peers[hello.rank] = (sock, lines)
            nodes.append(NodeRecord(hello.rank, hello.host, hello.job_sha256))
    finally:
        server.close()
    if error is not None:
        for sock, _ in peers.values():
            _send(sock, {"ok": False, "error": error})
            sock.close()
        raise SwiftctlError(error, hint=_HINT, location="resources")
    for sock, _ in peers.values():
        _send(sock, {"ok": True, "resume": resume, "nodes": [n.__dict__ for n in nodes]})
    return Joined(_Channel(peers), sorted(nodes, key=lambda n: n.rank), resume)


_HINT = "start every node with the same job file: swiftctl train JOB --node-rank N (N = 0..nodes-1)"


def _check(me: Hello, other: Hello, peers: dict[int, Any]) -> str | None:
    if other.nnodes != me.nnodes:
        return f"node {other.rank} ({other.host}) expects {other.nnodes} nodes, node 0 expects {me.nnodes}"
    if not 0 < other.rank < me.nnodes or other.rank in peers:
        return f"two nodes started with --node-rank {other.rank} (the other one from {other.host})"
    if other.job_sha256 != me.job_sha256:
        return (f"node {other.rank} ({other.host}) was started with a different job file than node 0 "
                f"(sha256 {other.job_sha256[:12]} vs {me.job_sha256[:12]}): {job_difference(me.job, other.job)}")
    return None


def join_node(me: Hello, addr: str, port: int, *, timeout: float) -> Joined:
    """Node N>0: reach node 0 (retrying until ``timeout``), introduce this node, and take its answer."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SwiftctlError(f"node {me.rank} could not reach node 0 at {addr}:{port} (MASTER_ADDR:MASTER_PORT+1) within "
                                f"{timeout:g} s ({last})",
                                hint="check resources.master_addr, that node 0 was started "
                                     "(swiftctl train JOB --node-rank 0) and that the port is open between the nodes",
                                location="resources.master_addr")
        try:
            sock = socket.create_connection((addr, port), timeout=min(left, 5.0))
            break
        except OSError as exc:
            last = exc.strerror or type(exc).__name__
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0)))
    _send(sock, me.__dict__)
    lines = _Lines(sock)
    try:
        answer = lines.read(max(deadline - time.monotonic(), 0) + 60)
    except OSError:
        answer = None
    if answer is None:
        sock.close()
        raise SwiftctlError(f"node 0 at {addr}:{port} closed the rendezvous without an answer",
                            hint="look at node 0's output (its preflight may have failed)", location="resources")
    if not answer.get("ok"):
        sock.close()
        raise SwiftctlError(str(answer.get("error")), hint=_HINT, location="resources")
    nodes = [NodeRecord(**n) for n in answer.get("nodes", [])]
    return Joined(_Channel({0: (sock, lines)}), nodes, answer.get("resume"))
