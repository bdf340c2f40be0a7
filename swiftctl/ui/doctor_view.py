"""Tables for `swiftctl doctor` and `swiftctl env`: the people's view of the same objects --json prints."""

from __future__ import annotations

import shlex

from rich.table import Table
from rich.text import Text

from swiftctl.ui.console import err, out

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_doctor(report) -> None:
    """Summary lines, packages, then one row per finding (what / why / fix)."""
    con = out()
    s, d, g = report.system, report.disk, report.gpu
    prof = report.profile or "none"
    con.print(f"profile: {prof}{' (inferred)' if report.profile_inferred else ''}   "
              f"require: {','.join(sorted(report.require))}", highlight=False)
    con.print(f"python {s.python} ({s.python_executable}) · {s.os} {s.machine} · {s.cpu} ×{s.cpu_count} · "
              f"RAM {s.ram_total_gib} GiB ({s.ram_available_gib} free)", highlight=False)
    con.print(f"outputs: {d.path} ({d.free_gib} GiB free{'' if d.writable else ', NOT writable'})", highlight=False)
    if g.gpus:
        for gpu in g.gpus:
            used = f"{gpu.memory_used_mib}/" if gpu.memory_used_mib is not None else ""
            procs = f" · {len(gpu.processes)} process(es)" if gpu.processes else ""
            con.print(f"gpu {gpu.index}: {gpu.name} · {used}{gpu.memory_mib} MiB · driver {gpu.driver} · "
                      f"sm {gpu.compute_cap or '?'}{procs}", highlight=False)
    else:
        con.print(f"gpu: none ({g.status}{': ' + g.detail if g.detail else ''})", highlight=False)
    con.print(f"torch build: {report.torch_build or 'not installed'}", highlight=False)
    pkgs = Table(title="packages", show_edge=False, pad_edge=False)
    pkgs.add_column("package")
    pkgs.add_column("version")
    for name, version in report.packages.items():
        if version is not None:
            pkgs.add_row(name, version)
    con.print(pkgs)
    if report.env:
        con.print("env: " + " ".join(f"{k}={v}" for k, v in report.env.items()), highlight=False, soft_wrap=True)
    if report.findings:
        table = Table(title="findings", show_lines=True, expand=False)
        for col in ("severity", "what", "why", "fix"):
            table.add_column(col, overflow="fold")
        for f in report.findings:
            sev = f.severity.value + (" (blocks)" if f.blocks_any(report.require) else "")
            table.add_row(Text(sev, style=_STYLE[f.severity.value]), f.what, f.why, f.fix)
        con.print(table)
    blocking = report.blocking()
    verdict = "ok: nothing blocks " if not blocking else f"FAIL: {len(blocking)} finding(s) block "
    con.print(Text(verdict + ",".join(sorted(report.require)), style="bold green" if not blocking else "bold red"))


def render_profiles(rows: list[tuple[str, str]]) -> None:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("profile")
    table.add_column("description")
    for name, desc in rows:
        table.add_row(name, desc)
    out().print(table)


def render_profile(profile) -> None:
    con = out()
    con.print(f"{profile.name}: {profile.description}", highlight=False)
    con.print(f"file: {profile.path}   python{profile.python or ' any'}   gpu: {profile.gpu}   "
              f"torch build: {profile.torch_build or 'any'}", highlight=False)
    table = Table(show_edge=False, pad_edge=False)
    for col in ("package", "range", "recommended", "for", "notes"):
        table.add_column(col, overflow="fold")
    for p in profile.packages:
        table.add_row(p.name, p.range or "any", p.version or "-", ",".join(p.needed_for) or "-", p.notes)
    con.print(table)
    for label, steps in (("install", profile.install), ("post-install", profile.post_install)):
        for step in steps:
            con.print(f"{label}: pip {step.action} {shlex.join([*step.pip_args, *step.packages])}", highlight=False)
    for key, value in profile.runtime_env.items():
        con.print(f"runtime env: {key}={value}", highlight=False)


def render_plan(steps, final: list[str]) -> None:
    """Dry run: the exact commands on stdout, shlex-quoted; steps already satisfied are commented out."""
    for step in steps:
        line = ("# already satisfied, skipped: " if step.satisfied else "") + shlex.join(step.argv)
        out().print(line, highlight=False, soft_wrap=True, markup=False)
    out().print(shlex.join(final), highlight=False, soft_wrap=True, markup=False)


def step_started(step, skipped: bool) -> None:
    prefix = "skip (already satisfied)" if skipped else "run"
    err().print(f"[{prefix}] {shlex.join(step.argv)}", highlight=False, markup=False, soft_wrap=True)
