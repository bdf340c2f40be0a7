"""Read a run's TensorBoard event files (``run_dir/runs/events.out.tfevents.*``) as a :class:`RunLog`.

For runs that have no ``logging.jsonl`` (an interrupted run, or one written by another tool): ms-swift's
TensorBoard callback logs ``train/loss``, ``train/grad_norm``, ``train/learning_rate``, ``train/token_acc``,
``train/epoch`` and ``eval/loss``, ``eval/token_acc`` per global step. Read with tensorboard's own
EventAccumulator (tensorboard is installed with ms-swift), imported only when a run needs it.
"""

from __future__ import annotations

from pathlib import Path

from swiftctl.runs.logs import EvalPoint, RunLog, TrainPoint


def event_files(run_dir: Path) -> list[Path]:
    return sorted((Path(run_dir) / "runs").rglob("events.out.tfevents.*"))


def read_events(run_dir: Path) -> RunLog | None:
    """The scalars of every event file of the run, merged per step; None when there is none."""
    files = event_files(run_dir)
    if not files:
        return None
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    steps: dict[int, dict[str, float]] = {}
    for path in files:
        acc = EventAccumulator(str(path), size_guidance={SCALARS: 0})
        acc.Reload()
        for tag in acc.Tags().get("scalars", []):
            for event in acc.Scalars(tag):
                steps.setdefault(int(event.step), {})[tag] = float(event.value)
    log = RunLog(path=files[0])
    for step in sorted(steps):
        values = steps[step]
        if "train/loss" in values:
            log.train.append(TrainPoint(step, values.get("train/epoch"), values["train/loss"],
                                        values.get("train/grad_norm"), values.get("train/learning_rate"),
                                        values.get("train/token_acc")))
        if "eval/loss" in values:
            log.evals.append(EvalPoint(step, values.get("train/epoch"), values["eval/loss"],
                                       values.get("eval/token_acc")))
        log.last_step = max(log.last_step, step)
    return log
