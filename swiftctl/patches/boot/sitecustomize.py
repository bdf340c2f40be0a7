"""swiftctl's patch bootstrap: put first on PYTHONPATH by `swiftctl.patches.patch_environment`.

Python imports the first ``sitecustomize`` on sys.path at start-up, in every interpreter that inherits the
environment: torchrun workers, vLLM engine processes started with multiprocessing 'spawn', dataloader workers.
This file (1) arms the patches named in ``SWIFTCTL_PATCHES`` (lazy import hooks, nothing heavy imported) and
(2) runs the next ``sitecustomize`` on sys.path, the user's or the distribution's, as if this one were not there.
It never raises: a patch that cannot be armed is reported on stderr and the program runs unpatched.
"""

import os
import sys


def _arm() -> None:
    ids = os.environ.get("SWIFTCTL_PATCHES", "")
    if not ids.strip():
        return
    try:
        from swiftctl.patches import runtime
    except ImportError:
        # Another interpreter without swiftctl installed: load swiftctl from the tree this file belongs to,
        # without leaving that tree on sys.path.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        sys.path.insert(0, root)
        try:
            from swiftctl.patches import runtime
        except Exception as exc:
            sys.stderr.write(f"swiftctl-patches[{os.getpid()}]: patches {ids} not armed: {exc}\n")
            return
        finally:
            if root in sys.path:
                sys.path.remove(root)
    runtime.install(ids)


def _chain() -> None:
    """Execute the next sitecustomize on sys.path (skipping this directory) under the name sitecustomize."""
    import importlib.machinery
    import importlib.util

    here = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
    rest = [p for p in sys.path if os.path.realpath(os.path.abspath(p or os.curdir)) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        # What site.py does for a failing sitecustomize: report and go on.
        import traceback

        sys.stderr.write(f"Error in sitecustomize {spec.origin}; set PYTHONVERBOSE for traceback:\n")
        traceback.print_exc()


try:
    _arm()
except Exception as _exc:  # never break the interpreter's start-up
    sys.stderr.write(f"swiftctl-patches[{os.getpid()}]: bootstrap failed: {_exc}\n")
_chain()
