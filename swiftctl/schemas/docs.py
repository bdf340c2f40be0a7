"""The JSON documents that commands build around domain objects (envelopes), as TypedDicts.

The domain objects inside (Problem, Issue, LaunchPlan, System, ...) are the dataclasses the code returns; only the
outer shape each command prints is described here. Imported when schemas are built and by the code that builds
these documents, never at CLI start-up.
"""

from __future__ import annotations

from typing import Literal

from typing_extensions import NotRequired, TypedDict  # pydantic needs it before Python 3.12

from swiftctl.data.preview import PreviewToken
from swiftctl.data.report import Problem, RowResult, Summary
from swiftctl.envcheck.probe import Disk, Gpu, System
from swiftctl.jobs.compile import LaunchPlan
from swiftctl.jobs.lint import Issue
from swiftctl.patches.status import PatchStatus


class FindingJson(TypedDict):
    code: str
    severity: Literal["error", "warning", "info"]
    what: str
    why: str
    fix: str
    blocks: list[str]
    blocking: bool


class GpuJson(TypedDict):
    status: Literal["ok", "absent", "timeout", "failed", "garbage"]
    detail: str
    gpus: list[Gpu]
    usage_status: Literal["ok", "skipped", "absent", "timeout", "failed", "garbage"]
    usage_detail: str


class DoctorJson(TypedDict):
    schema_version: int
    ok: bool
    profile: str | None
    profile_inferred: bool
    require: list[str]
    system: System
    disk: Disk
    gpu: GpuJson
    torch_build: str | None
    packages: dict[str, str | None]
    env: dict[str, str]
    findings: list[FindingJson]
    job: str | None


class EnvRow(TypedDict):
    name: str
    description: str


EnvList = list[EnvRow]
PatchList = list[PatchStatus]
PatchEnv = dict[str, str]


class DataCheckJson(TypedDict):
    ok: bool
    strict: bool
    errors: int
    warnings: int
    problems: list[Problem]
    summary: Summary
    rows: NotRequired[list[RowResult]]  # with --rows: what ms-swift does with each row


class DataPreviewJson(TypedDict):
    path: str
    line: int
    template: str
    system: str | None
    input_ids: list[int]
    labels: list[int]
    tokens: list[PreviewToken]
    counter: str  # "swiftctl-renderer", or "ms-swift-worker" (ms-swift's own encode, for other templates)


class JobCheckJson(TypedDict):
    job: str
    ok: bool
    issues: list[Issue]
    skipped: list[str]


JobCheckOutput = JobCheckJson | list[JobCheckJson]  # one document per job; a list when several jobs are checked


class JobMigrateJson(TypedDict):
    toml: str
    notes: list[str]
    output: str | None  # the file written (-o), else null


class TrainDryRunJson(TypedDict):
    job: str
    plan: LaunchPlan
    script: str  # the bash script --dry-run prints (or the sbatch script with --slurm)
    issues: list[Issue]  # what `job check` would report (a real launch stops on errors)
