"""Split mode ``given`` (docs/report/protocol.md): a dataset's own train and test files. The test file is the test set,
validation is carved from the train file per user (seeded, ``split.given_valid``), no pair is in two sets; the
``random`` mode is unchanged; the authors' ml-1m files are a registry entry with checksums, planned by a dry run."""

import copy
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from recunlearn.config import ConfigError, load_yaml, validate_config
from recunlearn.data import load_interactions, prepare, preprocess
from recunlearn.datasets import BUILTIN, resolve_registry, split_mode
from recunlearn.fetch import DownloadError, fetch
from recunlearn.report.paper import table_6_2, table_6_3

from conftest import ROOT, run_snakemake

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
GIVEN = {"mode": "given", "given_valid": 0.1, "seed": 5, "min_user_interactions": 3}
RANDOM = {"train": 0.8, "valid": 0.1, "test": 0.1, "seed": 5, "min_user_interactions": 3}


def lightgcn_files(tmp_path, n_users=120, n_items=200, seed=0):
    """train.txt / test.txt in LightGCN's format (``user item item ...``), about 78/22, with: a pair in both files,
    a duplicate inside the train file, a test-only user (9999) and a test-only item (7777). Returns the paths and
    the sets of (raw user, raw item) pairs of each file."""
    rng = np.random.default_rng(seed)
    train, test = {}, {}
    for u in range(n_users):
        items = rng.choice(n_items, int(rng.integers(4, 60)), replace=False)
        n_test = max(1, int(round(0.22 * len(items))))
        test[u], train[u] = list(items[:n_test]), list(items[n_test:])
    train[0] = train[0] + [train[0][0]]  # a duplicate inside the train file
    train[1] = train[1] + [test[1][0]]  # a pair in both files: it belongs to the test set only
    test[2] = test[2] + [7777]  # an item nobody trained on
    test[9999] = [3, 4, 5]  # a user with no train line
    paths = []
    for name, rows in (("train.txt", train), ("test.txt", test)):
        p = tmp_path / name
        p.write_text("".join(f"{u} " + " ".join(map(str, its)) + "\n" for u, its in rows.items()))
        paths.append(p)
    pairs = [{(u, int(i)) for u, its in rows.items() for i in its} for rows in (train, test)]
    return paths, pairs


def raw_pairs(out):
    """The three splits of a preprocessed dataset as sets of (raw user, raw item)."""
    users = pd.read_csv(out / "users.csv")["raw_id"].to_numpy()
    items = pd.read_csv(out / "items.csv")["raw_id"].to_numpy()
    sets = {}
    for split in ("train", "valid", "test"):
        x = load_interactions(out / f"{split}.npz")
        sets[split] = set(zip(users[x.user].tolist(), items[x.item].tolist()))
    return sets


def run_given(tmp_path, paths, split=GIVEN, name="out"):
    out = tmp_path / name
    stats = prepare("lightgcn", [(str(p), None) for p in paths], out, dict(split), "toy")
    return out, stats


def test_given_test_file_is_the_test_set_and_validation_comes_from_train(tmp_path):
    paths, (train_file, test_file) = lightgcn_files(tmp_path)
    out, stats = run_given(tmp_path, paths)
    sets = raw_pairs(out)
    assert sets["test"] == test_file  # exactly the test file's pairs, the cold user and cold item included
    assert sets["train"] | sets["valid"] == train_file - test_file  # the rest of the train file, nothing else
    assert not (sets["train"] & sets["valid"]) and not (sets["train"] & sets["test"])
    assert not (sets["valid"] & sets["test"])
    # validation: max(1, round(10%)) of each user's train-file interactions (>= 3 of them), at least one left to train
    per_user = pd.Series([u for u, _ in train_file - test_file]).value_counts()
    valid_per_user = pd.Series([u for u, _ in sets["valid"]]).value_counts()
    for u, n in per_user.items():
        want = max(1, int(np.floor(n * 0.1 + 0.5))) if n >= 3 else 0
        assert valid_per_user.get(u, 0) == want, u
    g = stats["given"]
    assert g["train_file_interactions"] == len(train_file) and g["test_file_interactions"] == len(test_file)
    assert g["in_both_files"] == 1 and stats["duplicates_dropped"] == 2  # the duplicate and the shared pair
    assert g["cold_users"] == 1 and g["cold_user_test_interactions"] == 3
    assert g["cold_items_absent_from_train_file"] == 1 and g["cold_items"] >= 1
    assert stats["split"] == {"mode": "given", "given_valid": 0.1, "seed": 5, "min_user_interactions": 3}
    assert stats["test"]["interactions"] == len(test_file)
    assert json.loads((out / "stats.json").read_text()) == stats


def test_given_validation_is_seeded_and_has_the_configured_share(tmp_path):
    paths, (train_file, test_file) = lightgcn_files(tmp_path, n_users=300)
    a, _ = run_given(tmp_path, paths, name="a")
    b, _ = run_given(tmp_path, paths, name="b")
    c, _ = run_given(tmp_path, paths, dict(GIVEN, seed=6), name="c")
    for split in ("train", "valid", "test"):
        assert (a / f"{split}.npz").read_bytes() == (b / f"{split}.npz").read_bytes()
    assert raw_pairs(a)["valid"] != raw_pairs(c)["valid"] and raw_pairs(a)["test"] == raw_pairs(c)["test"]
    n_train_file = len(train_file - test_file)
    for share in (0.1, 0.25):
        out, stats = run_given(tmp_path, paths, dict(GIVEN, given_valid=share), name=f"s{share}")
        assert stats["valid"]["interactions"] / n_train_file == pytest.approx(share, abs=0.02)
        assert stats["test"]["interactions"] == len(test_file)


def test_random_mode_is_unchanged(tmp_path):
    """The random split is byte-for-byte what it was before split modes (these fingerprints were computed then)."""
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 40, 200)
    user = np.repeat(np.arange(200), counts)
    item = np.concatenate([rng.choice(300, c, replace=False) for c in counts])
    stats = preprocess(user * 3 + 1, item, tmp_path / "r", (0.8, 0.1, 0.1), 2022, 3, "toy")
    assert "mode" not in stats["split"] and "given" not in stats
    assert [stats[s]["interactions"] for s in ("train", "valid", "test")] == [3349, 450, 450]
    assert hashlib.sha256((tmp_path / "r" / "stats.json").read_bytes()).hexdigest() == (
        "71dced2ad2256a0ed83348d325df03a840fd644c9463927ae704ee6dbe510abe")
    # and prepare() without a mode, or with mode random, takes that same path
    paths, (_, test_file) = lightgcn_files(tmp_path)
    one = prepare("lightgcn", [(str(p), None) for p in paths], tmp_path / "one", dict(RANDOM), "toy")
    two = prepare("lightgcn", [(str(p), None) for p in paths], tmp_path / "two", dict(RANDOM, mode="random"), "toy")
    assert one == two and one["test"]["interactions"] != len(test_file)  # the files merged and re-split


def test_given_needs_two_files(tmp_path):
    paths, _ = lightgcn_files(tmp_path)
    with pytest.raises(ValueError, match="split mode 'given' reads two files"):
        prepare("lightgcn", [(str(paths[0]), None)], tmp_path / "o", dict(GIVEN), "toy")


# ---------------------------------------------------------------------------- configuration


def demo():
    return load_yaml(ROOT / "config" / "demo.yaml")


def test_split_mode_in_the_schema():
    cfg = validate_config(demo(), SCHEMA)
    assert "mode" not in cfg["split"] and cfg["split"]["given_valid"] == 0.1  # unset: each dataset's own, random
    for mode in ("random", "given"):
        c = demo()
        c["split"]["mode"] = mode
        if mode == "given":
            c["datasets"] = ["ml-1m-receraser"]
        assert validate_config(c, SCHEMA)["split"]["mode"] == mode
    c = demo()
    c["split"]["mode"] = "fixed"
    with pytest.raises(ConfigError) as err:
        validate_config(c, SCHEMA)
    assert "config key 'split.mode': 'fixed' is not one of ['random', 'given']" in str(err.value)
    assert "\n" not in str(err.value)
    for share in (0, 1, 1.5):
        c = demo()
        c["split"]["given_valid"] = share
        with pytest.raises(ConfigError, match="config key 'split.given_valid'"):
            validate_config(c, SCHEMA)


def test_given_on_a_dataset_without_a_test_file_is_refused():
    c = demo()
    c["split"]["mode"] = "given"  # the synthetic dataset has no files at all
    with pytest.raises(ConfigError, match=r"config key 'split.mode': 'given' needs dataset 'synthetic' to have two "
                                          r"sources \(the train file, then the test file\); it has 0"):
        validate_config(c, SCHEMA)
    c = demo()
    c["datasets"] = ["one"]
    c["registry"]["one"] = {"format": "csv", "split_mode": "given", "sources": [{"url": "x.csv"}]}
    with pytest.raises(ConfigError, match="config key 'registry.one.split_mode': 'given' needs dataset 'one'"):
        validate_config(c, SCHEMA)
    # two csv files under given: a train file and a test file
    c["registry"]["one"]["sources"].append({"url": "y.csv"})
    validate_config(c, SCHEMA)


def test_split_mode_is_a_dataset_default_that_the_config_overrides():
    reg = resolve_registry({})
    assert split_mode(reg["ml-1m-receraser"]) == "given"
    assert split_mode(reg["yelp2018"]) == split_mode(reg["ml-1m"]) == "random"  # as before
    assert split_mode(reg["yelp2018"], {"mode": "given"}) == "given"
    assert split_mode(reg["ml-1m-receraser"], {"mode": "random"}) == "random"
    assert split_mode(reg["ml-1m-receraser"], {"seed": 1}) == "given"


def test_paper_splits_config():
    cfg = validate_config(load_yaml(ROOT / "config" / "paper_splits.yaml"), SCHEMA)
    assert cfg["datasets"] == ["yelp2018", "ml-1m-receraser"] and cfg["split"]["mode"] == "given"
    assert cfg["split"]["given_valid"] == 0.1
    paper = validate_config(load_yaml(ROOT / "config" / "config.yaml"), SCHEMA)
    assert "mode" not in paper["split"]  # the paper's text: random 80/10/10 for every dataset


# ---------------------------------------------------------------------------- the authors' ml-1m files

ML1M_TRAIN_SHA = "c74ca36cdff687523a151f25ae24a8e93f52906d599e446625a393fdb06443d7"
ML1M_TEST_SHA = "0ea4825f0016fffc2b44329ef3617efbf6a3c3ba6e145c48b7a8b46b7313d5c5"
RAW = "https://raw.githubusercontent.com/chenchongthu/Recommendation-Unlearning/master/data/ml-1m"


def test_ml_1m_receraser_entry():
    spec = BUILTIN["ml-1m-receraser"]
    assert spec["format"] == "lightgcn" and spec["split_mode"] == "given" and spec["paper_dataset"] == "ml-1m"
    assert [(s["url"], s["sha256"]) for s in spec["sources"]] == [
        (f"{RAW}/train.txt", ML1M_TRAIN_SHA), (f"{RAW}/test.txt", ML1M_TEST_SHA)]


def test_ml_1m_receraser_checksums_through_file_urls(tmp_path):
    """The entry, pointed at local copies with file:// URLs: a file with another sha256 is refused and removed;
    files matching the entry's checksums are fetched and split with the test file as the test set."""
    paths, (train_file, test_file) = lightgcn_files(tmp_path)
    spec = copy.deepcopy(BUILTIN["ml-1m-receraser"])
    for source, path in zip(spec["sources"], paths):
        source["url"] = path.as_uri()
    dest = tmp_path / "resources" / "ml-1m-receraser"
    with pytest.raises(DownloadError, match=f"sha256 mismatch for .*train.txt: expected {ML1M_TRAIN_SHA}, got "):
        fetch(spec["sources"][0], dest / "train.txt")
    assert not dest.exists() or list(dest.iterdir()) == []
    for source, path in zip(spec["sources"], paths):  # the same entry with our copies' checksums
        source["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    files = []
    for source, name in zip(spec["sources"], ("train.txt", "test.txt")):
        assert fetch(source, dest / name)["sha256"] == source["sha256"]
        files.append((str(dest / name), None))
    out = tmp_path / "data"
    stats = prepare(spec["format"], files, out, {**GIVEN, "seed": 2022}, "ml-1m-receraser")
    assert raw_pairs(out)["test"] == test_file and stats["test"]["interactions"] == len(test_file)


def test_dry_run_plans_both_files_with_their_checksums(workdir):
    out = run_snakemake(workdir, "-n", "results/tables/table_6_2.md",
                        "--configfile", str(ROOT / "config" / "paper_splits.yaml")).stdout
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert counts["download"] == 4 and counts["preprocess"] == 2 and counts["table_6_2"] == 1
    for name, sha in (("train.txt", ML1M_TRAIN_SHA), ("test.txt", ML1M_TEST_SHA)):
        assert (f"download resources/ml-1m-receraser/{name} from {RAW}/{name}, verified against sha256 {sha}"
                in out), name
    assert "input: resources/ml-1m-receraser/train.txt, resources/ml-1m-receraser/test.txt" in out
    assert "download resources/yelp2018/test.txt from" in out


# ---------------------------------------------------------------------------- Tables 6.2 and 6.3


def test_tables_say_which_protocol_each_row_used(tmp_path):
    paths, _ = lightgcn_files(tmp_path)
    _, given = run_given(tmp_path, paths)
    given["dataset"] = "ml-1m-receraser"
    random = {k: v for k, v in given.items() if k != "given"}
    random.update(dataset="ml-1m", split={"ratios": [0.8, 0.1, 0.1], "seed": 1, "min_user_interactions": 3})
    stats_files = []
    for s in (given, random):
        p = tmp_path / f"{s['dataset']}.json"
        p.write_text(json.dumps(s))
        stats_files.append(p)
    names = {"ml-1m-receraser": "ml-1m", "ml-1m": "ml-1m"}
    t2 = table_6_2(stats_files, ROOT / "workflow" / "paper" / "table_6_2.csv", tmp_path / "t2", paper_names=names)
    assert t2.loc[0, "protocol"].startswith("given train/test files (")
    assert t2.loc[0, "users (paper)"] == "6,040" and t2.loc[1, "protocol"] == "random 80/10/10 per user"
    md = (tmp_path / "t2.md").read_text()
    assert "ml-1m-receraser (beside the paper's ml-1m)" in md and "config/paper_splits.yaml" in md
    rows = []
    for dataset in ("ml-1m-receraser", "ml-1m"):
        for method, part, agg, n in (("Retrain", "none", "none", 1), ("RecEraser", "inbp", "att", 10)):
            for metric in ("Recall", "NDCG"):
                for k in (10, 20, 50):
                    rows.append(dict(dataset=dataset, model="WMF", method=method, partition=part, aggregator=agg,
                                     n_shards=n, seed=2022, split="test", metric=metric, k=k, value=0.3))
    metrics = tmp_path / "metrics.csv"
    pd.DataFrame(rows).to_csv(metrics, index=False)
    long = table_6_3(metrics, ROOT / "workflow" / "paper" / "table_6_3.csv", tmp_path / "t3", 10,
                     stats_files=stats_files, paper_names=names)
    r = long[(long["dataset"] == "ml-1m-receraser") & (long["method"] == "Retrain") & (long["metric"] == "NDCG")
             & (long["k"] == 20)].iloc[0]
    assert r["paper"] == pytest.approx(0.3509) and r["paper_dataset"] == "ml-1m"  # the paper's WMF Retrain NDCG@20
    assert r["protocol"].startswith("given train/test files")
    wide = (tmp_path / "t3.md").read_text()
    assert "| protocol " in wide and "random 80/10/10 per user" in wide
    assert "ml-1m-receraser is compared with the paper's ml-1m" in wide


@pytest.mark.slow
def test_given_split_through_snakemake(workdir):
    """The authors' entry pointed at local copies (file:// URLs, their sha256s): downloaded, verified, split with the
    test file as the test set, and shown in Table 6.2 with its protocol beside the paper's ml-1m."""
    import yaml

    paths, (train_file, test_file) = lightgcn_files(workdir)
    entry = copy.deepcopy(BUILTIN["ml-1m-receraser"])
    for source, path in zip(entry["sources"], paths):
        source.update(url=path.as_uri(), sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    cfg = {"datasets": ["ml-1m-receraser"], "registry": {"ml-1m-receraser": entry}}
    (workdir / "given.yaml").write_text(yaml.safe_dump(cfg))
    run_snakemake(workdir, "results/tables/table_6_2.md", "--configfile", str(workdir / "given.yaml"))
    assert raw_pairs(workdir / "results" / "ml-1m-receraser" / "data")["test"] == test_file
    stats = json.loads((workdir / "results" / "ml-1m-receraser" / "data" / "stats.json").read_text())
    assert stats["split"]["mode"] == "given" and stats["given"]["test_file_interactions"] == len(test_file)
    table = pd.read_csv(workdir / "results" / "tables" / "table_6_2.csv")
    assert table.loc[0, "protocol"].startswith("given train/test files") and table.loc[0, "users (paper)"] == "6,040"
