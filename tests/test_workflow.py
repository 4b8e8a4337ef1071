"""The spine through Snakemake: tiny synthetic data plus local datasets in two raw formats, end to end."""

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile

import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_snakemake

pytestmark = pytest.mark.slow


def make_ml100k_zip(path):
    rows = [f"{u}\t{i}\t{1 + (u * i) % 5}\t8812509{u:02d}" for u in range(1, 41) for i in range(1, 31) if (u * 7 + i) % 4]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-100k/u.data", "\n".join(rows) + "\n")
    return hashlib.md5(path.read_bytes()).hexdigest(), len(rows)


def spine_config(workdir, md5=None):
    """Config of three tiny datasets; returns it with the md5 and row count of the local ml-100k-style zip."""
    raw = workdir / "raw"
    raw.mkdir()
    real_md5, n_rows = make_ml100k_zip(raw / "ml-100k.zip")
    md5 = md5 or real_md5
    (raw / "train.txt").write_text("".join(f"{u} " + " ".join(str((u + j) % 25) for j in range(8)) + "\n" for u in range(30)))
    (raw / "test.txt").write_text("".join(f"{u} {(u + 9) % 25} {(u + 10) % 25}\n" for u in range(30)))
    cfg = {
        "datasets": ["synthetic", "toy100k", "toyyelp"],
        "registry": {
            "synthetic": {"format": "synthetic", "synthetic": {"n_users": 80, "n_items": 120, "n_communities": 4,
                                                               "mean_interactions": 15, "min_interactions": 5,
                                                               "max_interactions": 40}},
            "toy100k": {"format": "movielens_tab",
                        "sources": [{"url": (raw / "ml-100k.zip").as_uri(), "md5": md5, "member": "ml-100k/u.data"}]},
            "toyyelp": {"format": "lightgcn", "sources": [{"url": "raw/train.txt"}, {"url": "raw/test.txt"}]},
        },
        "download": {"retries": 0, "timeout": 10},
        "models": ["BPR"],
        "training": {"device": "cpu", "threads": 1, "gpus": 0, "seeds": [2022, 2023]},
        "hyperparameters": {m: {"max_epochs": 4, "eval_every": 2, "patience": 2, "dim": 16}
                            for m in ("BPR", "WMF", "LightGCN")},
        "sharding": {"n_shards": 2, "partitions": ["random", "inbp"], "aggregators": ["mean", "att"], "rounds": 5},
        "aggregation": {"max_epochs": 2},
        "unlearning": {"n_requests": 3, "n_timed": 1, "n_retrain_timed": 1, "methods": ["SISA", "RecEraser"],
                       "k_values": [2]},
        # the forgetting check and user deletion run in the tiny DAG (.test/config/config.yaml), not on three datasets
        "forgetting": {"enabled": False},
        "user_unlearning": {"enabled": False},
    }
    return cfg, real_md5, n_rows


def write_config(workdir, cfg, name="test.yaml"):
    path = workdir / name
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_spine_end_to_end_and_deterministic(workdir):
    cfg, _, n_rows = spine_config(workdir)
    cfg["sharding"]["shard_jobs"] = "per_partition"  # the rebuild below trains one job per shard
    # the two raw formats and the checksums through Snakemake: download, read, split and Table 6.2
    run_snakemake(workdir, "results/tables/table_6_2.md", "--configfile", write_config(workdir, cfg, "three.yaml"))
    table = pd.read_csv(workdir / "results" / "tables" / "table_6_2.csv")
    assert list(table["dataset"]) == ["synthetic", "toy100k", "toyyelp"]
    assert table.loc[1, "interactions"] == f"{n_rows:,}"
    assert table.loc[2, "interactions"] == f"{30 * 10:,}"  # train.txt + test.txt merged
    assert (workdir / "resources" / "toyyelp" / "train.txt.sha256").exists()  # trust on first use
    for suffix in (".md", ".tex"):
        assert (workdir / "results" / "tables" / f"table_6_2{suffix}").stat().st_size > 0
    # the whole DAG (every table, figure and audit) on the synthetic data
    cfg["datasets"] = ["synthetic"]
    conf = write_config(workdir, cfg)
    run_snakemake(workdir, "--configfile", conf)

    metrics = pd.read_csv(workdir / "results" / "metrics.csv")
    assert sorted(metrics["dataset"].unique()) == ["synthetic"]
    assert sorted(metrics["model"].unique()) == ["BPR", "MostPop"]
    # MostPop once; per seed, Retrain and 5 (partition, aggregator) pairs: SISA, GraphEraser, RecEraser, random+att,
    # inbp+mean; after unlearning (first seed only): Retrain, SISA and RecEraser, and the approximate methods
    # (fine-tune, SCIF, IFRU), each sequential and batch
    assert len(metrics) == (1 + 6 * 2 + 6 + 3 * 2) * 2 * 2 * 3  # evaluations x splits x metrics x ks
    assert {"SISA", "GraphEraser", "RecEraser", "random+att", "inbp+mean"} <= set(metrics["method"])
    assert metrics.loc[metrics["method"] == "MostPop", "seed"].isna().all()
    assert sorted(metrics["seed"].dropna().astype(int).unique()) == [2022, 2023]
    assert set(metrics.loc[metrics["method"].str.contains("unlearned"), "seed"]) == {2022}
    per_seed = metrics[(metrics["method"] == "RecEraser") & (metrics["split"] == "test")].groupby("seed").size()
    assert per_seed.to_dict() == {2022: 2 * 3, 2023: 2 * 3}
    results = workdir / "results"
    sidecar = json.loads((results / "synthetic" / "BPR" / "seed2022" / "retrain" / "model.json").read_text())
    stats = json.loads((results / "synthetic" / "data" / "stats.json").read_text())
    assert sidecar["trained_on"]["sha256"] == stats["train"]["sha256"] and sidecar["device"] == "cpu"
    assert (results / "synthetic" / "BPR" / "seed2022" / "retrain" / "benchmark.tsv").exists()
    for seed in (2022, 2023):
        run = results / "synthetic" / "BPR" / f"seed{seed}"
        shard = json.loads((run / "inbp_K2" / "shard_1" / "model.json").read_text())
        agg = json.loads((run / "inbp_K2" / "att" / "aggregator.json").read_text())
        assert [s["trained_on_sha256"] for s in agg["submodels"]][1] == shard["trained_on"]["sha256"]
        assert (results / "synthetic" / f"seed{seed}" / "partitions" / "inbp_K2" / "assignment.npz").exists()
        assert (results / "synthetic" / f"seed{seed}" / "pretrain" / "embeddings.pt").exists()
    # the seed changes the model (same split, other initialisation, sampling and partition anchors)
    assert (results / "synthetic" / "BPR" / "seed2022" / "retrain" / "model.pt").read_bytes() != \
        (results / "synthetic" / "BPR" / "seed2023" / "retrain" / "model.pt").read_bytes()
    assert not (results / "synthetic" / "BPR" / "seed2023" / "inbp_K2" / "att" / "unlearn_sequential").exists()
    for out in ("tables/table_6_3.md", "tables/table_6_3.tex", "tables/table_6_3.csv", "tables/scorecard.md",
                "figures/fig_6_2.png", "figures/fig_6_2.pdf", "figures/fig_6_2.csv", "figures/fig_6_3.png",
                "figures/fig_6_3.pdf", "figures/fig_6_3.csv"):
        assert (results / out).stat().st_size > 0, out
    for out in ("tables/table_6_4.md", "tables/table_6_4.csv", "figures/fig_6_4.png", "figures/fig_6_4.pdf"):
        assert (results / out).stat().st_size > 0, out
    report = json.loads((results / "synthetic" / "BPR" / "seed2022" / "unlearning" / "audit.json").read_text())
    assert report["passed"] and len(report["models"]) == 2 * 2  # 2 methods x 2 modes
    card = (results / "tables" / "scorecard.md").read_text()
    assert "## Efficiency: a RecEraser request much cheaper than Retrain (Table 6.4)" in card
    assert "seeds: 2022, 2023" in card and "## Per-seed differences (Recall@20)" in card
    assert "| holds (1 seed" not in card  # two seeds: every verdict is tested
    t63 = pd.read_csv(results / "tables" / "table_6_3.csv")
    assert set(t63["method"]) == {"Retrain", "SISA", "GraphEraser", "RecEraser"}
    assert t63["n_seeds"].eq(2).all() and t63["std"].notna().all()
    assert t63.loc[t63["method"] == "RecEraser", "p_value"].notna().all()
    assert " ± " in (results / "tables" / "table_6_3.md").read_text()
    fig = pd.read_csv(results / "figures" / "fig_6_2.csv")
    assert fig["n_seeds"].eq(2).all() and set(fig["variant"]) == {"Random", "InBP"}
    assert set(metrics["split"]) == {"valid", "test"} and set(metrics["k"]) == {10, 20, 50}
    assert metrics["value"].between(0, 1).all()
    assert list(pd.read_csv(workdir / "results" / "tables" / "table_6_2.csv")["dataset"]) == ["synthetic"]

    # the HTML report: every table and figure registered, with its caption
    run_snakemake(workdir, "--configfile", conf, "--report", "results/report.html")
    html = (workdir / "results" / "report.html").read_text(errors="replace")
    for name in ("table_6_2.csv", "table_6_3.csv", "table_6_4.csv", "scorecard.md", "fig_6_2.png", "fig_6_3.png",
                 "fig_6_4.png", "Table 6.3 (quality)", "Figure 6.4 (shards)"):
        assert name in html, name

    # same config and seed, same numbers: rebuild the synthetic dataset's whole chain from scratch, this time with
    # one job per shard (sharding.shard_jobs changes how the sub-models are scheduled, never what they are)
    first = (workdir / "results" / "metrics.csv").read_bytes()
    shutil.rmtree(workdir / "results" / "synthetic")
    cfg["sharding"]["shard_jobs"] = "per_shard"
    conf = write_config(workdir, cfg, "per_shard.yaml")
    proc = run_snakemake(workdir, "--configfile", conf)
    log = proc.stdout + proc.stderr
    assert "train_shard:" in log and "aggregate:" in log and "train_inbp_K2" not in log
    assert (workdir / "results" / "metrics.csv").read_bytes() == first


def test_wrong_md5_fails_cleanly_through_snakemake(workdir):
    cfg, md5, _ = spine_config(workdir, md5="f" * 32)
    cfg["datasets"] = ["toy100k"]
    proc = run_snakemake(workdir, "--configfile", write_config(workdir, cfg), check=False)
    assert proc.returncode != 0
    log = (workdir / "resources" / "toy100k" / "ml-100k.zip.log").read_text()
    assert f"md5 mismatch for resources/toy100k/ml-100k.zip: expected {'f' * 32}, got {md5}" in log
    assert sorted(p.name for p in (workdir / "resources" / "toy100k").iterdir()) == ["ml-100k.zip.log"]


def test_bad_config_stops_with_a_one_line_message(workdir):
    cfg = {"datasets": ["synthetic"], "split": {"valid": "ten"}}
    proc = run_snakemake(workdir, "-n", "--configfile", write_config(workdir, cfg), check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "invalid configuration: config key 'split.valid': 'ten' is not of type 'number' (expected: fraction" in out


def test_paper_config_plans_downloads_and_preprocessing(paper_plan):
    out = paper_plan.stdout + paper_plan.stderr
    for path in ("resources/yelp2018/train.txt", "resources/yelp2018/test.txt", "resources/ml-1m/ml-1m.zip",
                 "resources/ml-10m/ml-10m.zip", "results/yelp2018/data/train.npz", "results/ml-1m/data/train.npz",
                 "results/ml-10m/data/train.npz"):
        assert path in out, path
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    # quality experiments once per seed (3 seeds), unlearning on the first seed only
    assert counts["download"] == 4 and counts["preprocess"] == 3 and counts["retrain"] == 9 * 3
    assert counts["pretrain"] == 3 * 3 and counts["mostpop"] == 3
    # per seed: 3 methods + 3 more partitions (Fig. 6.2) + 2 aggregators (Fig. 6.3) at K = 10; first seed only:
    # RecEraser at K = 5, 20, 50 (Fig. 6.4)
    # plus UltraRE (ot + group, user-level deletion) per seed
    assert counts["aggregate"] == 3 * 3 * (8 * 3 + 3 + 1)
    assert counts["table_6_3"] == 1 and counts["figure"] == 2 and counts["scorecard"] == 1
    # unlearning: 3 methods x 2 modes at K = 10, plus RecEraser at K = 5, 20, 50 (Fig. 6.4), per dataset and model
    assert counts["unlearn"] == 3 * 3 * (3 * 2 + 3) and counts["unlearn_retrain"] == 3 * 3 * 2
    assert counts["deletion_requests"] == 3 and counts["audit"] == 9 and counts["table_6_4"] == 1
    assert counts["partition"] == 3 * (5 * 3 + 3 + 1)  # and UltraRE's ot (user-level deletion, first seed)
    # shards: 5 partitions x 10 shards per seed; first seed only: ot's 10 (UltraRE) and RecEraser at K = 5, 20, 50
    assert counts["train_shard"] == 3 * 3 * (5 * 10 * 3 + 10 + 5 + 20 + 50)
    for dataset in ("yelp2018", "ml-1m", "ml-10m"):
        for model in ("BPR", "WMF", "LightGCN"):
            for seed in (2022, 2023, 2024):
                assert f"results/{dataset}/{model}/seed{seed}/retrain/model.pt" in out
            assert f"results/{dataset}/{model}/seed2022/unlearning/audit.json" in out
            assert f"results/{dataset}/{model}/seed2023/unlearning/audit.json" not in out


def test_one_table_builds_only_what_it_needs(workdir):
    out = run_snakemake(workdir, "-n", "results/tables/table_6_3.md", "--configfile",
                        str(ROOT / "config" / "demo.yaml")).stdout
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    # per seed (the demo has 1): the 3 named partitions, and for each of the 3 models one job per partition that
    # trains its 3 sub-models and then its aggregator (sharding.shard_jobs: per_partition)
    assert counts["partition"] == 3
    assert counts["train_random_K3"] == counts["train_bekm_K3"] == counts["train_inbp_K3"] == 3
    assert "train_shard" not in counts and "aggregate" not in counts and "train_ubp_K3" not in counts
    assert "mostpop" not in counts and "figure" not in counts and "scorecard" not in counts


def test_batch_mode_off_plans_sequential_unlearning_only(demo_plan):
    # config/demo.yaml: unlearning.batch_mode false; the paper's config plans both modes (above)
    out = demo_plan.stdout
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    # 3 models x (4 methods at K = 3: the paper's three and RecEraser-fast; RecEraser at K = 2), one Retrain each
    assert counts["unlearn"] == 3 * (4 + 1) and counts["unlearn_retrain"] == 3
    assert "unlearn_sequential" in out and "unlearn_batch" not in out


def planned_gpus(plan):
    """The gpu resource of every planned retrain job."""
    jobs = plan.stdout.split("rule ")[1:]
    return {job.split(":")[0]: ("gpu=1" in job) for job in jobs
            if job.startswith(("retrain", "preprocess", "train_", "partition:"))}


def test_training_jobs_carry_a_gpu_resource_only_when_not_on_cpu(paper_plan, demo_plan):
    paper = planned_gpus(paper_plan)  # paper config: device auto
    assert paper == {"retrain": True, "train_shard": True, "preprocess": False, "partition": False}
    demo = planned_gpus(demo_plan)  # a partition's shards per job
    assert demo == {"retrain": False, **{f"train_{p}_K3": False for p in ("random", "ibp", "inbp", "bekm")},
                    "train_inbp_K2": False, "preprocess": False,
                    "partition": False}


def test_snakefmt_is_clean():
    # the Snakefile and rules as snakefmt (pinned in the test extras; line length in pyproject.toml) writes them
    proc = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("config", ["config/config.yaml", "config/demo.yaml"])
def test_lint_is_clean(workdir, config):
    proc = run_snakemake(workdir, "--lint", "--configfile", str(ROOT / config), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_gathered_metrics_hold_every_seed_of_every_table_6_3_method(workdir):
    """results/metrics.csv (which the frontier reads) gathers RecEraser-fast at every seed, as Table 6.3 does: with
    it only at the first seed, the frontier set one seed's quality beside the other methods' means."""
    (workdir / "seeds.yaml").write_text("training: {seeds: [2022, 2023]}\n")
    out = run_snakemake(workdir, "-n", "-p", "results/metrics.csv", "--configfile",
                        str(ROOT / "config" / "demo.yaml"), str(workdir / "seeds.yaml")).stdout
    job = out.split("rule gather_metrics:", 1)[1].split("\n\n", 1)[0]
    inputs = job.split("input:", 1)[1].split("\n", 1)[0]
    for seed in (2022, 2023):
        assert f"results/synthetic/WMF/seed{seed}/inbp_K3/refit/metrics.csv" in inputs
        assert f"results/synthetic/BPR/seed{seed}/inbp_K3/memb/metrics.csv" in inputs
