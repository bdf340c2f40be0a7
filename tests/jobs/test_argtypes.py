"""extra_args values are type-checked with the installed ms-swift's argument types, and the types swiftctl reads
(with ast) are the ones ms-swift's own HfArgumentParser uses."""

from __future__ import annotations

import pytest

from swiftctl.jobs.argtypes import extra_arg_problems, installed_kinds, kind


def test_kinds_of_annotations():
    assert kind("Optional[int]") == ("int", ()) and kind("float") == ("float", ()) and kind("bool | None") == ("bool", ())
    assert kind("Literal['a', 'b']") == ("choice", ("a", "b")) and kind("List[str]") is None and kind("str") is None


def test_wrong_values_are_found():
    kinds = {"lora_rank": ("int", ()), "weight_decay": ("float", ()), "packing": ("bool", ()), "x": ("choice", ("a",))}
    assert extra_arg_problems(["--lora_rank", "8", "--weight_decay=0.1", "--packing", "--x", "a"], kinds) == []
    assert [i for i, _ in extra_arg_problems(["--lora_rank", "8.5", "--weight_decay=nan", "--packing", "maybe",
                                              "--x", "b"], kinds)] == [0, 2, 3, 5]


def test_job_check_reports_a_bad_extra_arg_value(cli, tmp_path):
    job = tmp_path / "job.toml"
    job.write_text('extra_args = ["--lora_rank", "eight"]\n[model]\npath = "m"\n[data]\ntrain = ["d.jsonl"]\n'
                   '[output]\ndir = "o"\n')
    result = cli("job", "check", str(job))
    assert result.exit_code == 1 and f"{job}:1 (extra_args.0): --lora_rank takes an integer, not 'eight'" in result.stdout + result.stderr


@pytest.mark.stack
def test_kinds_match_ms_swift_parser():
    """Every kind read from the source equals the type HfArgumentParser gives the option (ms-swift imported)."""
    from swift.arguments import SftArguments
    from transformers import HfArgumentParser
    from transformers.hf_argparser import string_to_bool

    actions = {a.dest: a for a in HfArgumentParser([SftArguments])._actions if f"--{a.dest}" in a.option_strings}
    kinds = installed_kinds()
    assert len(kinds) > 100
    for name, (what, choices) in kinds.items():
        action = actions[name]
        if what == "choice":
            assert tuple(action.choices) == choices, name
        else:
            assert action.type is {"int": int, "float": float, "bool": string_to_bool}[what], (name, action.type)
