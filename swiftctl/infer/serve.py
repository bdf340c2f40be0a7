"""`swiftctl serve`: ms-swift deploy on vLLM, OpenAI-compatible, loopback by default, persona applied server-side.

The training system prompt goes to `swift deploy --system`, so the template renders it into every prompt that
does not bring its own system message: plain OpenAI clients get the persona, not "You are Qwen".
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from swiftctl.errors import SwiftctlError
from swiftctl.infer.plan import Settings, deploy_plan
from swiftctl.infer.target import Target
from swiftctl.secrets import redact_argv


@dataclass
class ServeInfo:
    url: str  # http://HOST:PORT/v1
    health_url: str
    model_name: str
    system: str | None
    command: str  # shlex-joined, key redacted
    log_path: Path
    pid: int | None = None
    auth: bool = False
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def start_server(target: Target, settings: Settings, *, host: str = "127.0.0.1", port: int = 8000,
                 served_model_name: str | None = None, api_key: str | None = None, log_path: Path | None = None,
                 ready_timeout: float = 900.0, base_env: Mapping[str, str] | None = None) -> Iterator[ServeInfo]:
    """Start the server, wait for /health, yield where it is; it is stopped (whole process group) on exit."""
    from swiftctl.infer.authproxy import auth_proxy
    from swiftctl.launch.serve import check_port_free, free_port, serving

    check_port_free(host, port)
    name = served_model_name or (target.run_dir.parent.name if target.run_dir else Path(target.model).name)
    # with a key, ms-swift runs keyless on a private loopback port behind swiftctl's auth proxy: the key never
    # reaches ms-swift's argv, env or log, and every route but /health answers 401 without it (infer/authproxy.py)
    backend_host, backend_port = ("127.0.0.1", free_port()) if api_key else (host, port)
    plan = deploy_plan(target, settings, host=backend_host, port=backend_port, served_model_name=name,
                       base_env=base_env)
    tmp_dir = None
    if log_path is None:
        tmp_dir = Path(tempfile.mkdtemp(prefix="swiftctl-serve-"))
        log_path = tmp_dir / "server.log"
    url_host = f"[{host}]" if ":" in host else ("127.0.0.1" if host in ("0.0.0.0", "") else host)
    base = f"http://{url_host}:{port}"
    command = shlex.join(redact_argv(plan.argv))
    try:
        with serving(plan.argv, env=plan.env, log_path=log_path, health_url=f"http://{backend_host}:{backend_port}/health",
                     timeout=ready_timeout) as server, \
                (auth_proxy(host, port, api_key, (backend_host, backend_port)) if api_key
                 else contextlib.nullcontext()):
            info = ServeInfo(url=f"{base}/v1", health_url=f"{base}/health", model_name=name, system=target.system,
                             command=command, log_path=log_path, pid=server.proc.pid if server.proc else None,
                             auth=bool(api_key), notes=plan.notes)
            info._server = server  # type: ignore[attr-defined]  # not a field: never serialized
            yield info
    except SwiftctlError:
        tmp_dir = None  # the server failed: its log (which holds no key) stays for the hint to point at
        raise
    finally:
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)


def serve_forever(target: Target, settings: Settings, *, on_ready: Callable[[ServeInfo], None], **kwargs) -> int:
    """Serve until the server exits or Ctrl-C/SIGTERM (forwarded to its group); return its exit code."""
    with start_server(target, settings, **kwargs) as info:
        on_ready(info)
        return info._server.wait()  # type: ignore[attr-defined]
