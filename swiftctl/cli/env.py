"""`swiftctl env`: pin profiles (swiftctl/resources/profiles/*.toml): list, show, constraints, install."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt, complete_profile

env_app = typer.Typer(help="Pin profiles: list, show, write constraints, install.", no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Profile name (swiftctl env list).",
                                        autocompletion=complete_profile)]


@env_app.command("list")
def list_(json_: JsonOpt = False) -> None:
    """List the pin profiles (shipped in the package, or $SWIFTCTL_ENV_DIR).

    Example:

      swiftctl env list
    """
    from swiftctl.envcheck.profiles import list_profiles, load_profile

    rows = [(n, load_profile(n).description) for n in list_profiles()]
    if json_:
        from swiftctl.ui.console import print_json

        print_json([{"name": n, "description": d} for n, d in rows])
    else:
        from swiftctl.ui.doctor_view import render_profiles

        render_profiles(rows)


@env_app.command("show")
def show(name: NameArg, json_: JsonOpt = False) -> None:
    """Show a profile: package ranges, recommended versions, install steps, runtime env.

    Example:

      swiftctl env show swift3-5090
    """
    from swiftctl.envcheck.profiles import load_profile

    profile = load_profile(name)
    if json_:
        from swiftctl.ui.console import print_json

        print_json(profile.model_dump(mode="json", by_alias=True))
    else:
        from swiftctl.ui.doctor_view import render_profile

        render_profile(profile)


@env_app.command("constraints")
def constraints(name: NameArg, out: Annotated[Path | None, typer.Option(
        "--out", "-o", dir_okay=False, help="Write here (atomically) instead of stdout.")] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace an existing --out.")] = False) -> None:
    """Write a pip constraints file pinning every package of the profile to its recommended version.

    Examples:

      swiftctl env constraints cpu --out constraints.txt && pip install -c constraints.txt ms-swift

      swiftctl env constraints swift4-gpu
    """
    from swiftctl.envcheck.install import constraints_text, write_constraints
    from swiftctl.envcheck.profiles import load_profile

    if out is not None:
        from swiftctl.fsutil import check_output

        check_output(out, force=force)
    profile = load_profile(name)
    if out is None:
        sys.stdout.write(constraints_text(profile))
    else:
        write_constraints(profile, out)
        typer.echo(f"wrote {out}", err=True)


@env_app.command("install")
def install(
    name: NameArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the exact commands, run nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Run steps even when already satisfied.")] = False,
) -> None:
    """Install a profile into the Python running swiftctl: torch first (pinned), the rest constrained,
    then the post-install steps, then `swiftctl doctor --profile NAME`.

    Steps already satisfied are skipped, so a second run is quick and changes nothing.

    Examples:

      swiftctl env install cpu --dry-run

      swiftctl env install cpu --yes
    """
    from swiftctl.envcheck.install import plan, run_plan, write_constraints
    from swiftctl.envcheck.profiles import load_profile
    from swiftctl.errors import UsageError
    from swiftctl.ui.doctor_view import render_plan, step_started

    profile = load_profile(name)
    dest = Path(sys.prefix) / "swiftctl" / f"constraints-{profile.name}.txt"
    steps = plan(profile, dest)
    if dry_run:
        render_plan(steps, ["swiftctl", "doctor", "--profile", profile.name])
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"env install {name} changes the packages of {sys.prefix}",
                             hint=f"confirm with: swiftctl env install {name} --yes")
        typer.confirm(f"install profile {name} into {sys.prefix}?", abort=True)
    write_constraints(profile, dest)
    run_plan(steps, force=force, on_step=step_started)
    from swiftctl.envcheck.installed import clear_cache

    clear_cache()  # pip changed the environment: doctor must read it afresh
    from swiftctl.cli.doctor import doctor

    doctor(profile=profile.name, require="train", output_dir=None, json_=False)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.add_typer(env_app, name="env")
