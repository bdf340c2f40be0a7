"""`python -m swiftctl.schemas [DIR] [--check]`: write the JSON Schemas of every --json output to DIR (schemas/).

--check writes nothing and exits 1 when a committed schema differs from the generated one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from swiftctl.schemas.export import stale, write_all


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    out = Path(args[0]) if args else Path("schemas")
    if check:
        wrong = stale(out)
        for name in wrong:
            print(f"{out}/{name}: out of date (run: python -m swiftctl.schemas {out})", file=sys.stderr)
        return 1 if wrong else 0
    for path in write_all(out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
