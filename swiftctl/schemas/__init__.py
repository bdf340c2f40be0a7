"""JSON Schemas of every ``--json`` output, generated from the types the commands print.

:data:`REGISTRY` is the one table: output name -> the type of the JSON document, its schema_version and the command
that prints it. To add an output, add a row (the type as ``"module:attr"``, imported only when schemas are built) and
run ``python -m swiftctl.schemas`` to write ``schemas/<name>.schema.json``; tests/schemas checks the committed files
equal the generated ones and validates each command's real output against its schema.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    type: str  # "module:attr" of the document's type (dataclass, pydantic model, TypedDict, list[...] alias)
    version: int  # schema_version: bump when a field is renamed or removed (adding one is also a bump here)
    command: str  # what prints it
    patch: dict[str, dict] | None = None  # JSON-pointer-like path -> properties to merge (values derived at dump time)


REGISTRY: dict[str, Entry] = {
    "doctor": Entry("swiftctl.schemas.docs:DoctorJson", 1, "swiftctl doctor --json"),
    "env-list": Entry("swiftctl.schemas.docs:EnvList", 1, "swiftctl env list --json"),
    "env-show": Entry("swiftctl.envcheck.profiles:Profile", 1, "swiftctl env show NAME --json"),
    "patch-list": Entry("swiftctl.schemas.docs:PatchList", 1, "swiftctl patch list --json"),
    "patch-check": Entry("swiftctl.patches.status:CheckResult", 1, "swiftctl patch check --json"),
    "patch-env": Entry("swiftctl.schemas.docs:PatchEnv", 1, "swiftctl patch env --json"),
    "data-check": Entry("swiftctl.schemas.docs:DataCheckJson", 1, "swiftctl data check FILE... --json"),
    "data-preview": Entry("swiftctl.schemas.docs:DataPreviewJson", 1, "swiftctl data preview FILE --json"),
    "job-check": Entry("swiftctl.schemas.docs:JobCheckOutput", 1, "swiftctl job check JOB... --json"),
    "job-migrate": Entry("swiftctl.schemas.docs:JobMigrateJson", 1, "swiftctl job migrate SRC --json"),
    "train-dry-run": Entry("swiftctl.schemas.docs:TrainDryRunJson", 1, "swiftctl train JOB --dry-run --json"),
    "runs": Entry("swiftctl.runs.discover:RunsList", 1, "swiftctl runs [DIR] --json"),
    "export": Entry("swiftctl.infer.export:ExportResult", 1, "swiftctl export [RUN] --out DIR --json"),
    "plan": Entry("swiftctl.plan.report:PlanReport", 1, "swiftctl plan JOB --json"),
    "train-result": Entry("swiftctl.launch.train:TrainResult", 1, "swiftctl train JOB --json"),
    "report": Entry("swiftctl.runs.report:Report", 1, "swiftctl report RUN... --json"),
    "infer": Entry("swiftctl.infer.batch:BatchResult", 1, "swiftctl infer ... --val FILE --json"),
    "eval": Entry("swiftctl.infer.evaluate:EvalReport", 1, "swiftctl eval ... --json",
                  {"": {"passed": {"type": "boolean"}},
                   "$defs/Summary": {"name_rate": {"anyOf": [{"type": "number"}, {"type": "null"}]}},
                   "$defs/Condition": {"name_rate": {"type": "number"}},
                   # with-system minus no-system, per side (identity_dict); the baseline's only with --baseline
                   "$defs/IdentityReport": {f"{side}_difference": {
                       "type": "object", "additionalProperties": False, "required": ["name_rate", "qwen_claims"],
                       "properties": {"name_rate": {"type": "number"}, "qwen_claims": {"type": "integer"}}}
                       for side in ("model", "baseline")}}),
}
