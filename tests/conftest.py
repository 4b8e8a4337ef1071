import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run Snakemake on the repository's Snakefile with ``workdir`` as working directory."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch working directory."""
    return prepare_workdir(tmp_path)


# A tiny configuration of the whole DAG (one model, K = 3, one timed request): for the interruption and SLURM tests.
TINY_CONFIG = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())



def write_synthetic_splits(path: Path, n_users: int, n_items: int, mean_interactions: int) -> dict:
    """A small synthetic dataset split 80/10/10 per user into ``path``/{train,valid,test}.npz: {split: path}."""
    from recunlearn.data import Interactions, save_interactions, split_per_user
    from recunlearn.synthetic import SyntheticConfig, generate

    out = generate(SyntheticConfig(n_users=n_users, n_items=n_items, n_communities=2,
                                   mean_interactions=mean_interactions, min_interactions=5, max_interactions=30,
                                   seed=0))
    x = Interactions(out["user"], out["item"], n_users, n_items)
    label = split_per_user(x.user, n_users, (0.8, 0.1, 0.1), seed=1)
    paths = {}
    for code, split in enumerate(("train", "valid", "test")):
        paths[split] = str(path / f"{split}.npz")
        save_interactions(paths[split], Interactions(x.user[label == code], x.item[label == code], n_users, n_items))
    return paths


def inbp_shards(tmp: Path, data: dict, embeddings: dict, spec, ctx, settings,
                partition: str = "inbp") -> tuple[str, list[dict]]:
    """The sharded model the unlearning tests start from: ``embeddings`` ({user, item}) saved as the pretraining, an
    InBP partition (or ``partition``) of 3 shards (5 rounds, seed 0) and the 3 sub-models of ``spec``: (assignment
    path, each sub-model's embeddings, sidecar and model files)."""
    from recunlearn.artefacts import save_state
    from recunlearn.run import JobContext, RunSpec
    from recunlearn.jobs.sharding import run_partition, run_shards

    save_state(embeddings, tmp / "emb.pt")
    part = {"assignment": str(tmp / "assignment.npz"), "stats": str(tmp / "stats.json")}
    run_partition(RunSpec("toy", partition=partition, n_shards=3), JobContext(seed=0), {"rounds": 5}, data,
                  tmp / "emb.pt", part)
    outs = [{key: str(tmp / f"shard{s}.{key}") for key in ("model", "embeddings", "sidecar", "history")}
            for s in range(3)]
    run_shards(spec, ctx, settings, data, part["assignment"], [0, 1, 2], outs)
    return part["assignment"], [{"embeddings": o["embeddings"], "sidecar": o["sidecar"], "model": o["model"]}
                                for o in outs]


def prepare_workdir(path: Path) -> Path:
    """An empty working directory: the Snakefile reads its config/config.yaml and the paper's tables beside itself."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def assert_job_metrics_equal(results: Path, reference: Path) -> list[Path]:
    """Every job's metrics.csv under ``results`` equals, byte for byte, the same file under ``reference`` (the
    results/ of another run); there are some, and an unlearning job's among them. The files compared."""
    ours = sorted(p.relative_to(results) for p in results.rglob("metrics.csv") if p.parent != results)
    assert len(ours) >= 6 and any("unlearn" in str(p) for p in ours), ours
    for rel in ours:
        assert (results / rel).read_bytes() == (reference / rel).read_bytes(), rel
    return ours


@pytest.fixture(scope="session")
def tiny_reference(tmp_path_factory) -> Path:
    """results/metrics.csv of an uninterrupted local run of TINY_CONFIG with ``sharding.shard_jobs: per_partition``
    (computed once per session)."""
    ref = prepare_workdir(tmp_path_factory.mktemp("reference"))
    # one job per partition here, one per shard in the runs compared with it: the two give the same numbers
    per_partition = {**TINY_CONFIG, "sharding": {**TINY_CONFIG["sharding"], "shard_jobs": "per_partition"}}
    (ref / "test.yaml").write_text(yaml.safe_dump(per_partition))
    run_snakemake(ref, "--configfile", str(ref / "test.yaml"))
    return ref / "results" / "metrics.csv"


class FakeServer:
    """A local HTTP server for download tests: ``routes[path]`` is a list of responses served in turn (the last one
    repeats), each bytes (200 with that body), an int (that status) or ("cut", bytes) (a Content-Length larger than
    the body sent, then the connection closed: a download cut short). ``hits[path]`` counts requests."""

    def __init__(self):
        import http.server
        import threading

        self.routes, self.hits = {}, {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                answers = server.routes.get(self.path, [404])
                answer = answers[min(server.hits[self.path], len(answers)) - 1]
                if isinstance(answer, int):
                    self.send_error(answer)
                    return
                cut = isinstance(answer, tuple)
                body = answer[1] if cut else answer
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) * (2 if cut else 1)))
                self.end_headers()
                self.wfile.write(body)
                if cut:
                    self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server():
    server = FakeServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def paper_plan(tmp_path_factory) -> subprocess.CompletedProcess:
    """``snakemake -n`` of the paper config (thousands of jobs: planned once per session, read by several tests)."""
    return run_snakemake(prepare_workdir(tmp_path_factory.mktemp("paper_plan")), "-n")


@pytest.fixture(scope="session")
def demo_plan(tmp_path_factory) -> subprocess.CompletedProcess:
    """``snakemake -n`` of config/demo.yaml, planned once per session."""
    return run_snakemake(prepare_workdir(tmp_path_factory.mktemp("demo_plan")), "-n", "--configfile",
                         str(ROOT / "config" / "demo.yaml"))
