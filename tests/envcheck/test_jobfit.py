"""`doctor --job`: the job's GPUs, cuda_visible_devices and checkpoint disk need against this machine. No GPU is on
these machines: the nvidia-smi outputs are the reconstructed recordings of tests/envcheck/recorded.py."""

from swiftctl.envcheck.doctor import run_doctor
from tests.envcheck import recorded as rec
from tests.envcheck.fakedist import cpu_stack

JOB = """swift_version = "4"
[model]
path = "./model"
model_type = "qwen2"
[data]
train = ["train.jsonl"]
max_length = 512
[tuner]
type = "{tuner}"
[train]
per_device_batch_size = 4
gradient_accumulation_steps = 1
save_total_limit = 2
[output]
dir = "out"
[resources]
device = "cuda"
gpus_per_node = {n}
cuda_visible_devices = "{visible}"
"""


def _job(tmp_path, n=8, visible="0,1,2,3,4,5,6,7", tuner="lora", weights=1 << 20):
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    (model / "config.json").write_text("{}")
    with open(model / "model.safetensors", "wb") as fh:  # sparse: its size counts, not its blocks
        fh.truncate(weights)
    path = tmp_path / "job.toml"
    path.write_text(JOB.format(n=n, visible=visible, tuner=tuner))
    return path


def _doctor(tmp_path, job, runner):
    site = tmp_path / "s"
    if not site.exists():
        cpu_stack(site)
    return run_doctor(None, {"train"}, None, runner, path=[str(site)], environ={}, job=job)


def _codes(report):
    return {f.code: f for f in report.findings if f.code.startswith("job.")}


def test_eight_gpu_job_fits_an_idle_8x_h100(tmp_path):
    report = _doctor(tmp_path, _job(tmp_path), rec.runner_for(rec.H100_X8, rec.H100_X8_IDLE_MEMORY, ""))
    assert _codes(report) == {} and report.to_json()["job"].endswith("job.toml")
    assert report.disk.path == str(tmp_path / "out")  # outputs default to the job's output.dir


def test_job_wants_gpus_the_machine_lacks(tmp_path):
    four = "".join(rec.H100_X8.splitlines(keepends=True)[:4])
    mem = "".join(rec.H100_X8_IDLE_MEMORY.splitlines(keepends=True)[:4])
    report = _doctor(tmp_path, _job(tmp_path), rec.runner_for(four, mem, ""))
    found = _codes(report)["job.gpus-missing"]
    assert found.blocks == ("train",) and not report.ok
    assert "uses GPU(s) 0,1,2,3,4,5,6,7 but this machine has 4 (0..3)" in found.what
    assert "job.toml:" in found.what  # the location in the job file


def test_job_gpus_held_by_another_process(tmp_path):
    job = _job(tmp_path, n=2, visible="0,1")
    report = _doctor(tmp_path, job, rec.runner_for(rec.H100_X8, rec.H100_X8_MEMORY, rec.H100_X8_APPS))
    assert "GPU(s) 0,1 of the job are held" in _codes(report)["job.gpus-busy"].what
    free = _doctor(tmp_path, _job(tmp_path, n=2, visible="4,5"),
                   rec.runner_for(rec.H100_X8, rec.H100_X8_MEMORY, rec.H100_X8_APPS))
    assert "job.gpus-busy" not in _codes(free)


def test_gpu_job_on_a_machine_without_gpus_blocks(tmp_path):
    def absent(argv, timeout):
        from swiftctl.launch.process import CommandNotFound

        raise CommandNotFound("nvidia-smi not found")

    report = _doctor(tmp_path, _job(tmp_path), absent)
    assert "needs 8 GPU(s) per node but nvidia-smi absent" in _codes(report)["job.no-gpu"].what and not report.ok


def test_checkpoints_larger_than_the_free_disk_block(tmp_path):
    job = _job(tmp_path, tuner="full", weights=1 << 40)  # a 1 TiB (sparse) model: 5 TiB per full checkpoint
    report = _doctor(tmp_path, job, rec.runner_for(rec.H100_X8, rec.H100_X8_IDLE_MEMORY, ""))
    short = _codes(report)["job.disk-short"]
    assert "checkpoints need ~10240.0 GiB" in short.what and "full: 1024.0 GiB weights × 5.0 per checkpoint × 2" in short.why
    assert not report.ok
