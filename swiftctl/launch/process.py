"""Start child processes: the one place in swiftctl that does.

Rules kept here so nobody else has to remember them:
- argv lists only, never ``shell=True``;
- stdout/stderr flushed before a child starts, so output interleaves in order;
- every long-running child gets its own process group, so Ctrl-C/SIGTERM reach it and everything it spawned
  (torchrun workers, dataloader workers, vLLM engine processes), and nothing is left behind when it ends;
- the child's exit code is passed through (a signal death becomes 128 + signal number, as a shell reports it).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from swiftctl.errors import SwiftctlError

GRACE_SECONDS = 20.0


class CommandNotFound(SwiftctlError):
    """The program to run is not installed / not on PATH."""


class CommandTimeout(SwiftctlError):
    """The program did not finish within its time limit (and was killed)."""


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _reap_group(pgid: int, grace: float = 5.0) -> None:
    """Make sure no process of the group outlives its leader: TERM, wait, then KILL."""
    if not _group_alive(pgid):
        return
    _kill_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.1)
    _kill_group(pgid, signal.SIGKILL)


def capture(argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            cwd: str | Path | None = None, input_text: str | None = None) -> CommandResult:
    """Run a short command to completion and capture its output (probes: nvidia-smi, pip show, ...)."""
    _flush()
    try:
        proc = subprocess.Popen(
            list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
            env=dict(env) if env is not None else None, cwd=cwd, text=True, errors="replace",
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise CommandNotFound(f"{argv[0]} not found", hint=f"install {argv[0]} or put it on PATH") from exc
    except PermissionError as exc:
        raise CommandNotFound(f"{argv[0]} is not executable", hint=f"check the permissions of {argv[0]}") from exc
    try:
        out, err = proc.communicate(input=input_text, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _reap_group(proc.pid, grace=1.0)
        proc.communicate()
        raise CommandTimeout(f"{argv[0]} did not finish within {timeout:g} s",
                             hint=f"check that {argv[0]} is not hung (run it by hand)") from exc
    finally:
        _reap_group(proc.pid, grace=1.0)
    return CommandResult(tuple(argv), proc.returncode, out, err)


def _parent_death_signal():
    """A preexec_fn asking Linux to SIGTERM the child when swiftctl dies, even by SIGKILL (no orphaned server in
    its own session); None where prctl is unavailable. The function is looked up before the fork."""
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Tee:
    """Copy a child's merged output to our stdout and to a log file as it arrives (chunks, so tqdm's \\r works)."""

    def __init__(self, sink: IO[bytes] | None, log: IO[bytes] | None, on_line: Callable[[str], None] | None) -> None:
        self.sink, self.log, self.on_line = sink, log, on_line
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        if self.sink is not None:
            self.sink.write(chunk)
            self.sink.flush()
        if self.log is not None:
            self.log.write(chunk)
            self.log.flush()
        if self.on_line is not None:
            data = self._partial + chunk
            *lines, self._partial = data.split(b"\n")
            for line in lines:
                self.on_line(line.decode("utf-8", "replace").rstrip("\r"))

    def mute(self) -> None:
        """Stop echoing (the log keeps everything): after Ctrl-C the child's shutdown tracebacks are noise."""
        if self.sink is not None and self.log is not None:
            self.sink.write(f"\nswiftctl: stopping; the rest of the output goes to {self.log.name}\n".encode())
            self.sink.flush()
            self.sink = None

    def close(self) -> None:
        if self.on_line is not None and self._partial:
            self.on_line(self._partial.decode("utf-8", "replace"))
            self._partial = b""


@contextlib.contextmanager
def _forward_signals(pgid: int) -> Iterator[list[int]]:
    """While the child runs, SIGINT/SIGTERM/SIGHUP sent to us go to the child's whole process group."""
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        _kill_group(pgid, signum)

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not in the main thread: leave handlers alone
            previous[sig] = signal.signal(sig, forward)
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
        log_path: Path | None = None, echo: bool = True, on_line: Callable[[str], None] | None = None,
        grace: float = GRACE_SECONDS, on_start: Callable[[int], None] | None = None, report_signal: bool = False) -> int:
    """Run a long command in its own process group, stream + tee its output, forward signals; return its exit code.

    On SIGINT/SIGTERM the signal is forwarded to the whole group; if the group has not exited ``grace`` seconds
    later it is killed. When the leader exits, any process it left in the group is ended too. With
    ``report_signal`` a non-zero exit after a forwarded signal is returned as 128 + that signal.
    """
    _flush()
    log = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115 - closed in finally
    try:
        try:
            proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True,
                                    preexec_fn=_parent_death_signal())  # a SIGKILLed swiftctl stops the run too
        except FileNotFoundError as exc:
            raise CommandNotFound(f"{argv[0]} not found", hint=f"install {argv[0]} or put it on PATH") from exc
        tee = _Tee(sys.stdout.buffer if echo else None, log, on_line)
        with _forward_signals(proc.pid) as received:
            if on_start is not None:
                on_start(proc.pid)
            _pump(proc, tee, received, grace)
        tee.close()
        returncode = proc.wait()
        _reap_group(proc.pid)
        if report_signal and received and returncode != 0:  # torchrun exits 1 on Ctrl-C: report it as a shell would
            return 128 + received[0]
        return _exit_code(returncode)
    finally:
        if log is not None:
            log.close()


def _pump(proc: subprocess.Popen[bytes], tee: _Tee, received: list[int], grace: float) -> None:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    kill_at: float | None = None
    drain_until: float | None = None
    try:
        while True:
            now = time.monotonic()
            if received and kill_at is None:
                kill_at = now + grace
            if kill_at is not None and now > kill_at:
                _kill_group(proc.pid, signal.SIGKILL)
            # A process the leader left behind may hold the pipe open forever: once the leader is gone,
            # drain for a moment and stop reading (the group is reaped afterwards).
            if drain_until is None and proc.poll() is not None:
                drain_until = now + 1.0
            if drain_until is not None and now > drain_until:
                break
            if not selector.select(timeout=0.2):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            if received:  # checked per chunk: the signal may arrive while we wait in select
                tee.mute()
            tee.feed(chunk)
    finally:
        selector.close()
        proc.stdout.close()


class Background:
    """A server process (vLLM, swift deploy) in its own group, logged to a file, always stopped on exit.

    Use as a context manager; ``stop()`` is idempotent and also registered with atexit.
    """

    def __init__(self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None,
                 cwd: str | Path | None = None) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Background:
        import atexit

        _flush()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            try:
                self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             env=self._env, cwd=self._cwd, start_new_session=True,
                                             preexec_fn=_parent_death_signal())
            except FileNotFoundError as exc:
                raise CommandNotFound(f"{self.argv[0]} not found", hint=f"install {self.argv[0]}") from exc
        atexit.register(self.stop)
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        return None if self.proc is None or self.proc.poll() is None else _exit_code(self.proc.returncode)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait(self) -> int:
        """Wait for the server to exit on its own, forwarding Ctrl-C/SIGTERM to its group."""
        assert self.proc is not None
        with _forward_signals(self.proc.pid):
            while self.proc.poll() is None:
                time.sleep(0.2)
        return _exit_code(self.proc.returncode)

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            _kill_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        _reap_group(self.proc.pid, grace=2.0)

    def __enter__(self) -> Background:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
