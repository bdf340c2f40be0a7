"""The one launcher: real child processes, real signals, real orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from swiftctl.launch.process import Background, CommandNotFound, CommandTimeout, capture, run

PY = sys.executable


def test_capture_returns_output_and_code():
    result = capture([PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"], timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.ok


def test_capture_missing_program_is_a_clear_error():
    with pytest.raises(CommandNotFound) as info:
        capture(["definitely-not-a-program-xyz"], timeout=5)
    assert info.value.render() == (
        "error: definitely-not-a-program-xyz not found\n  fix: install definitely-not-a-program-xyz or put it on PATH")


def test_capture_timeout_kills_the_whole_group(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    script = (f"import subprocess, time; p = subprocess.Popen(['sleep', '60']); "
              f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    start = time.monotonic()
    with pytest.raises(CommandTimeout):
        capture([PY, "-c", script], timeout=2)
    assert time.monotonic() - start < 10
    grandchild = int(pidfile.read_text())
    time.sleep(0.2)
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE


def test_run_tees_output_and_passes_exit_code(tmp_path, capfd):
    log = tmp_path / "run.log"
    lines: list[str] = []
    code = run([PY, "-c", "import sys; print('hello'); print('中文', file=sys.stderr); sys.exit(7)"],
               log_path=log, on_line=lines.append)
    assert code == 7
    assert lines == ["hello", "中文"]
    assert log.read_text(encoding="utf-8") == "hello\n中文\n"
    assert "hello" in capfd.readouterr().out


def test_run_reports_signal_death_like_a_shell():
    assert run([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"], echo=False) == 128 + signal.SIGTERM


def test_run_reaps_processes_left_in_the_group(tmp_path):
    pidfile = tmp_path / "orphan.pid"
    script = f"import subprocess; p = subprocess.Popen(['sleep', '60']); open({str(pidfile)!r}, 'w').write(str(p.pid))"
    assert run([PY, "-c", script], echo=False) == 0
    orphan = int(pidfile.read_text())
    time.sleep(0.3)
    assert not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == psutil.STATUS_ZOMBIE


def test_sigint_to_the_launcher_reaches_the_whole_child_group(tmp_path):
    """A real `swiftctl`-style launcher process gets SIGINT; its child and grandchild both end, none is left."""
    pidfile = tmp_path / "pids"
    child = textwrap.dedent(f"""
        import os, signal, subprocess, sys, time
        g = subprocess.Popen(['sleep', '120'])
        open({str(pidfile)!r}, 'w').write(f"{{os.getpid()}} {{g.pid}}")
        signal.signal(signal.SIGINT, lambda *a: sys.exit(42))
        time.sleep(120)
    """)
    launcher = textwrap.dedent(f"""
        import sys
        from swiftctl.launch.process import run
        sys.exit(run([sys.executable, '-c', {child!r}], echo=False, grace=5))
    """)
    proc = subprocess.Popen([PY, "-c", launcher])
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    child_pid, grandchild_pid = map(int, pidfile.read_text().split())
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) == 42
    time.sleep(0.3)
    for pid in (child_pid, grandchild_pid):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_background_is_stopped_with_its_children(tmp_path):
    pidfile = tmp_path / "pid"
    script = (f"import subprocess, time; p = subprocess.Popen(['sleep', '120']); "
              f"open({str(pidfile)!r}, 'w').write(str(p.pid)); print('up', flush=True); time.sleep(120)")
    with Background([PY, "-c", script], log_path=tmp_path / "server.log") as server:
        deadline = time.monotonic() + 20
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.running
        leader = server.proc.pid
    grandchild = int(pidfile.read_text())
    time.sleep(0.3)
    for pid in (leader, grandchild):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert Path(tmp_path / "server.log").read_text() == "up\n"


def test_after_a_signal_the_child_shutdown_noise_goes_to_the_log_only(tmp_path, capfd):
    """ms-swift prints KeyboardInterrupt tracebacks when stopped: they stay in the log, not on the terminal."""
    import os
    import signal
    import threading

    from swiftctl.launch.process import run

    child = ("import sys, time\nprint('step 1', flush=True)\ntry:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n"
             "    print('Traceback (most recent call last):\\nKeyboardInterrupt', flush=True)\n    sys.exit(130)\n")
    log = tmp_path / "train.log"
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    code = run([sys.executable, "-c", child], log_path=log, grace=10)
    timer.join()
    out = capfd.readouterr().out
    assert code == 130
    assert "step 1" in out and "Traceback" not in out and f"the rest of the output goes to {log}" in out
    assert "Traceback (most recent call last):\nKeyboardInterrupt" in log.read_text()


def test_background_child_ends_when_swiftctl_is_killed(tmp_path):
    """A server started in its own session must not outlive a swiftctl killed with SIGKILL."""
    import json as _json

    code = ("import sys, time\nfrom pathlib import Path\nfrom swiftctl.launch.process import Background\n"
            f"b = Background([sys.executable, '-c', 'import time; time.sleep(120)'], log_path=Path({str(tmp_path / 'l')!r}))\n"
            "b.start()\nprint(b.proc.pid, flush=True)\ntime.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    _gone, alive = psutil.wait_procs([psutil.Process(child)], timeout=10)
    assert not alive, _json.dumps([p.pid for p in alive])
