"""Compare swiftctl's per-row prediction with the oracle's (ms-swift's real pipeline) for one file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from swiftctl.data.check import check_files
from swiftctl.data.preview import preview_row
from tests.data.oracle import FileFate, Oracle


@dataclass
class Agreement:
    rows: int = 0
    rows_agree: int = 0
    files: int = 0
    files_agree: int = 0
    diffs: list[str] = field(default_factory=list)

    def add(self, other: Agreement) -> None:
        self.rows += other.rows
        self.rows_agree += other.rows_agree
        self.files += other.files
        self.files_agree += other.files_agree
        self.diffs += other.diffs


def compare_file(oracle: Oracle, path: Path, model_dir: Path, *, template: str = "qwen2_5",
                 max_length: int | None = 64, system: str | None = None, preview: bool = True,
                 rows: list | None = None) -> Agreement:
    """``rows``: swiftctl's per-row results for this file when already computed (e.g. by a `data check` run)."""
    fate: FileFate = oracle.run(path, template=template, max_length=max_length, system=system)
    if rows is None:
        rows = check_files([path], model_dir=model_dir, template=template, max_length=max_length, system=system,
                           per_row=True).rows
    ours = rows or []
    out = Agreement(files=1)
    theirs = [None] * len(ours) if fate.job_stops and not fate.loaded else list(fate.rows)
    out.rows = max(len(theirs), len(ours))
    for i in range(out.rows):
        mine = ours[i] if i < len(ours) else None
        ref = theirs[i] if i < len(theirs) else None
        if mine is None:
            out.diffs.append(f"{path.name} row {i}: swiftctl has no row; ms-swift {'kept' if ref and ref.kept else 'lost'}")
            continue
        ref_lost = ref is None or not ref.kept
        if ref_lost != mine.lost:
            why = (ref.error if ref else fate.error)[:120]
            out.diffs.append(f"{path.name}:{mine.line} lost: swiftctl {mine.lost}, ms-swift {ref_lost} ({why})")
            continue
        if not ref_lost and (mine.tokens, mine.trained) != (ref.tokens, ref.trained):
            out.diffs.append(f"{path.name}:{mine.line} tokens/trained: swiftctl {mine.tokens}/{mine.trained}, "
                             f"ms-swift {ref.tokens}/{ref.trained}")
            continue
        if preview and not ref_lost and sum(r.line == mine.line for r in ours) == 1:
            got = preview_row(path, row=mine.line, model_dir=model_dir, template=template, system=system)
            if (got.input_ids, got.labels) != (ref.input_ids, ref.labels):
                out.diffs.append(f"{path.name}:{mine.line} preview ids/labels differ from ms-swift's encode")
                continue
        out.rows_agree += 1
    files_stop = fate.job_stops
    ours_stop = (bool(ours) and all(r.lost for r in ours)) or not ours
    if out.rows_agree == out.rows and files_stop == ours_stop:
        out.files_agree = 1
    elif files_stop != ours_stop:
        out.diffs.append(f"{path.name}: job stops: swiftctl {ours_stop}, ms-swift {files_stop} ({fate.error[:120]})")
    return out
