"""The oracle: ms-swift 4.6's REAL `swift sft` data pipeline on one file, with the fate of every input row.

What runs is what `SwiftSft._prepare_dataset` runs (swift/pipelines/train/sft.py:100-126, 302-335):
``SftArguments`` (on the tiny model, ``__post_init__`` included) -> ``args.load_dataset()`` -> ``swift.dataset.load_dataset``
(HF ``load_dataset('json'|'csv')``, AutoPreprocessor, the row checks) -> ``args.get_template(processor)`` in train mode ->
``template.encode`` per row (AddLengthPreprocessor with ``truncation_strategy='delete'``: a row that raises is deleted).

The only addition: a ``__row`` column (the row's index as HF loaded it) is added right after HF's loader and kept through
``remove_useless_columns``, so each surviving row can be traced back to its input row. It is popped before encoding.

Importing swift takes ~8 s: one ``Oracle`` per test session (``tests/data/conftest.py``) serves every file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROW = "__row"


@dataclass
class RowFate:
    index: int  # the row's position as HF's loader read the file (0-based)
    kept: bool
    tokens: int = 0
    trained: int = 0
    input_ids: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    error: str = ""  # why ms-swift deleted the row (preprocess or encode), "" when kept


@dataclass
class FileFate:
    loaded: bool  # False: HF/pyarrow refused the file (the whole job stops)
    rows_read: int  # rows HF's loader produced
    rows: list[RowFate]  # one per row HF read, in order
    error: str = ""  # the load error, or "no rows left" when every row was deleted (swift sft stops)

    @property
    def job_stops(self) -> bool:
        return not self.loaded or not any(r.kept for r in self.rows)


class Oracle:
    """Holds swift imported and one template per (template, max_length, system)."""

    def __init__(self, model_dir: Path, cache_dir: Path | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.model_type = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))["model_type"]
        self.tmp = Path(cache_dir or tempfile.mkdtemp(prefix="swiftctl-oracle-"))
        os.environ["MODELSCOPE_CACHE"] = str(self.tmp / "ms")
        os.environ["HF_DATASETS_CACHE"] = str(self.tmp / "hf")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
        import datasets
        import swift.dataset.loader as loader
        from swift.arguments import SftArguments
        from swift.dataset.preprocessor.core import RowPreprocessor

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
        self._loader, self._rp, self._sft_args = loader, RowPreprocessor, SftArguments
        self._args: dict[tuple, Any] = {}
        self._processor = None
        self._counter = 0

    def args(self, template: str, max_length: int | None, system: str | None, path: Path):
        argv = dict(model=str(self.model_dir), model_type=self.model_type, template=template, dataset=[str(path)],
                    output_dir=str(self.tmp / "out"), truncation_strategy="delete", split_dataset_ratio=0.0,
                    dataset_num_proc=1, load_from_cache_file=False, max_length=max_length, system=system,
                    report_to=["none"], logging_dir=str(self.tmp / "logs"))
        return self._sft_args(**argv)

    def template(self, template: str, max_length: int | None, system: str | None, path: Path):
        key = (template, max_length, system)
        if key not in self._args:
            args = self.args(template, max_length, system, path)
            if self._processor is None:
                self._processor = args.get_model_processor(load_model=False)[1]
            tpl = args.get_template(self._processor)
            tpl.set_mode("train")
            self._args[key] = (args, tpl)
        return self._args[key]

    @contextlib.contextmanager
    def _traced(self):
        """Tag each row HF loads with its index and keep the tag through ms-swift's column filter."""
        loader, rp = self._loader, self._rp
        original_load, original_keys = loader.hf_load_dataset, rp.standard_keys

        def load(*a, **kw):
            ds = original_load(*a, **kw)
            return ds.add_column(ROW, list(range(len(ds))))

        loader.hf_load_dataset, rp.standard_keys = load, [*original_keys, ROW]
        try:
            yield
        finally:
            loader.hf_load_dataset, rp.standard_keys = original_load, original_keys

    def run(self, path: Path, *, template: str = "qwen2_5", max_length: int | None = None,
            system: str | None = None) -> FileFate:
        args, tpl = self.template(template, max_length, system, Path(path))
        args.dataset = [str(path)]
        tpl.max_length = max_length
        read = [0]
        with self._traced():
            try:
                train, _val = args.load_dataset()
            except Exception as exc:
                return FileFate(False, 0, [], f"{type(exc).__name__}: {str(exc)[:300]}")
        # rows HF read: the max tag seen + the rows deleted by the preprocessor are unknown, so read the cache
        by_index: dict[int, dict] = {}
        for row in train:
            row = dict(row)
            by_index[row.pop(ROW)] = row
        read[0] = self._rows_read(path)
        fates = []
        for i in range(max(read[0], max(by_index, default=-1) + 1)):
            row = by_index.get(i)
            if row is None:
                fates.append(RowFate(i, False, error="deleted by the preprocessor"))
                continue
            try:
                enc = tpl.encode(row, return_length=True)
            except Exception as exc:
                fates.append(RowFate(i, False, error=f"{type(exc).__name__}: {str(exc)[:200]}"))
                continue
            ids, labels = list(enc["input_ids"]), list(enc["labels"])
            fates.append(RowFate(i, True, len(ids), sum(lab != -100 for lab in labels), ids, labels))
        fate = FileFate(True, read[0], fates)
        if fate.job_stops:
            fate.error = "no rows left"
        return fate

    def _rows_read(self, path: Path) -> int:
        """How many rows HF's own loader reads from the file (before ms-swift deletes any)."""
        import datasets

        ext = Path(path).suffix.lstrip(".")
        kind = {"jsonl": "json"}.get(ext, ext)
        kw = {"na_filter": False} if kind == "csv" else {}
        self._counter += 1
        ds = datasets.load_dataset(kind, data_files=str(path), split="train", cache_dir=str(self.tmp / "count"), **kw)
        return len(ds)
