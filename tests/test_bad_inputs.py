"""The bad-input and fault matrix (docs/guide/bad_inputs.md): each case gives a clear one-line error or the right result,
and a user's own file is never deleted or rewritten. Tiny data; the Snakemake runs build only the download and the
preprocessing of a 10-user csv."""

import copy
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_snakemake
from recunlearn import fetch as fetch_module
from recunlearn.config import ConfigError, load_yaml, validate_config
from recunlearn.data import Interactions, load_interactions, prepare, preprocess, save_interactions
from recunlearn.fetch import DownloadError, NetworkError, fetch
from recunlearn.partition import partition
from recunlearn.readers import DataFormatError, read_raw

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SPLIT = {"train": 0.6, "valid": 0.2, "test": 0.2, "seed": 1, "min_user_interactions": 3}
ROWS = "user,item\n" + "".join(f"u{u},i{(u + j) % 7}\n" for u in range(10) for j in range(5))
TARGET = "results/mine/data/stats.json"


def config(url, **source):
    return {"datasets": ["mine"], "registry": {"mine": {"format": "csv", "sources": [{"url": url, **source}]}},
            "split": {"train": 0.6, "valid": 0.2, "test": 0.2}, "download": {"retries": 0}}


def snakemake(workdir, cfg, *args, check=True):
    path = workdir / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return run_snakemake(workdir, "--configfile", str(path), "--cores", "1", *args, check=check)


def output(proc):
    return proc.stdout + proc.stderr


def fingerprint(path):
    return path.read_bytes(), path.stat().st_mtime_ns


def validate(cfg):
    return validate_config(copy.deepcopy(cfg), SCHEMA)


def demo():
    return load_yaml(ROOT / "config" / "demo.yaml")


# ---------------------------------------------------------------------------- 1. a source is never an output
@pytest.mark.parametrize("url", ["resources/mine/data.csv", "results/mine.csv", "RESOLVED"])
def test_a_source_inside_resources_or_results_is_refused(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    if url == "RESOLVED":  # a path outside whose real location is inside resources/ (a symlink)
        (tmp_path / "resources").mkdir()
        (tmp_path / "link").symlink_to(tmp_path / "resources")
        url = (tmp_path / "link" / "data.csv").as_uri()
    with pytest.raises(ConfigError, match=r"config key 'registry\.mine\.sources\.0\.url': .* is inside "
                                          r"(resources|results)/, which the workflow writes and may delete"):
        validate(config(url))


@pytest.mark.slow  # Snakemake runs: a few seconds each
def test_a_source_in_resources_survives_forceall(workdir):
    own = workdir / "resources" / "mine" / "data.csv"
    own.parent.mkdir(parents=True)
    own.write_text(ROWS)
    before = fingerprint(own)
    proc = snakemake(workdir, config("resources/mine/data.csv"), "--forceall", TARGET, check=False)
    assert proc.returncode != 0 and "is inside resources/, which the workflow writes" in output(proc)
    assert fingerprint(own) == before


@pytest.mark.slow  # Snakemake runs: a few seconds each
def test_a_local_source_survives_forceall_and_a_checksum_mismatch(workdir):
    own = workdir / "data" / "mine.csv"
    own.parent.mkdir()
    own.write_text(ROWS)
    before = fingerprint(own)
    for _ in range(2):
        snakemake(workdir, config("data/mine.csv"), "--forceall", TARGET)
        assert fingerprint(own) == before
    assert (workdir / "resources" / "mine" / "mine.csv").read_text() == ROWS  # the copy the workflow owns
    proc = snakemake(workdir, config("data/mine.csv", sha256="0" * 64), "--forceall", TARGET, check=False)
    assert proc.returncode != 0 and fingerprint(own) == before
    assert not (workdir / "resources" / "mine" / "mine.csv").exists()  # the bad copy is removed, not the source


def test_a_local_source_survives_an_interrupted_download(tmp_path, monkeypatch):
    own = tmp_path / "data" / "big.csv"
    own.parent.mkdir()
    own.write_bytes(b"user,item\n" + b"1,2\n" * 600_000)  # more than one chunk
    before = fingerprint(own)
    dest = tmp_path / "resources" / "mine" / "big.csv"

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch({"url": str(own)}, dest)
    assert fingerprint(own) == before and list(dest.parent.iterdir()) == []  # no copy, no .part


def test_fetch_refuses_a_source_that_is_its_destination(tmp_path):
    dest = tmp_path / "resources" / "mine" / "data.csv"
    dest.parent.mkdir(parents=True)
    dest.write_text(ROWS)
    with pytest.raises(DownloadError, match="the source is the destination"):
        fetch({"url": str(dest), "sha256": "0" * 64}, dest)
    assert dest.read_text() == ROWS


# ---------------------------------------------------------------------------- 3. ids are labels
@pytest.mark.parametrize("fmt,text", [
    ("movielens_dat", "01::7::5::1\n1::7::5::1\n{big}1::7::5::1\n{big}2::7::5::1\n"),
    ("movielens_tab", "01\t7\t5\t1\n1\t7\t5\t1\n{big}1\t7\t5\t1\n{big}2\t7\t5\t1\n"),
    ("lightgcn", "01 7\n1 7\n{big}1 7\n{big}2 7\n"),
    ("csv", "user,item\n01,7\n1,7\n{big}1,7\n{big}2,7\n"),
])
def test_ids_that_look_alike_stay_distinct(tmp_path, fmt, text):
    big = "1" * 20  # 21-digit ids: beyond int64
    path = tmp_path / "raw"
    path.write_text(text.format(big=big))
    users, items = read_raw(fmt, [(str(path), None)])
    assert users.tolist() == ["01", "1", big + "1", big + "2"] and items.tolist() == ["7"] * 4
    split = {**SPLIT, "min_user_interactions": 1, "valid": 0.0, "test": 0.0, "train": 1.0}
    with pytest.raises(ValueError, match="the valid split would be empty"):
        prepare(fmt, [(str(path), None)], tmp_path / "out", split, "toy")


def test_labels_kept_in_users_and_items_csv(tmp_path):
    users = np.array(["01", "1", "1" * 21, "1" * 20 + "2", "7"] * 3)
    items = np.array(["1e3", "1000", "a"] * 5)
    preprocess(users, items, tmp_path, (0.6, 0.2, 0.2), seed=1, name="toy")
    user_map = pd.read_csv(tmp_path / "users.csv", dtype=str)
    item_map = pd.read_csv(tmp_path / "items.csv", dtype=str)
    assert user_map["raw_id"].tolist() == ["01", "1", "7", "1" * 21, "1" * 20 + "2"]  # numeric order, all distinct
    assert sorted(item_map["raw_id"]) == ["1000", "1e3", "a"]


# ---------------------------------------------------------------------------- 4. empty evaluation sets
@pytest.mark.parametrize("key", ["valid", "test"])
def test_an_empty_split_fraction_is_refused(key):
    cfg = demo()
    cfg["split"].update({key: 0, "train": cfg["split"]["train"] + cfg["split"][key]})
    with pytest.raises(ConfigError, match=rf"config key 'split\.{key}': 0 leaves the {key} split empty"):
        validate(cfg)


def test_users_too_short_for_validation_are_refused_before_writing(tmp_path):
    users = np.repeat(np.arange(20), 2)  # every user has 2 interactions, fewer than min_user_interactions = 3
    items = np.tile([0, 1], 20)
    with pytest.raises(ValueError, match=r"toy: the valid split would be empty .*0 of 20 users have "
                                         r"split.min_user_interactions = 3 or more"):
        preprocess(users, items, tmp_path / "out", name="toy")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- 5. a changed local source
@pytest.mark.slow  # Snakemake runs: a few seconds each
def test_an_edited_local_source_is_picked_up(workdir):
    own = workdir / "data" / "mine.csv"
    own.parent.mkdir()
    own.write_text(ROWS)
    snakemake(workdir, config("data/mine.csv"), TARGET)
    assert pd.read_json(workdir / TARGET, typ="series")["users"] == 10
    more = ROWS + "".join(f"new{u},i{j}\n" for u in range(3) for j in range(5))
    own.write_text(more)
    os.utime(own, ns=(own.stat().st_atime_ns, own.stat().st_mtime_ns + 10**9))  # a later edit, whatever the clock
    proc = snakemake(workdir, config("data/mine.csv"), TARGET)
    assert "Nothing to be done" not in output(proc)
    assert pd.read_json(workdir / TARGET, typ="series")["users"] == 13
    assert (workdir / "resources" / "mine" / "mine.csv").read_text() == more


# ---------------------------------------------------------------------------- 6. K against what a partition fills
def tiny_train(n_users=4, n_items=3):
    user = np.repeat(np.arange(n_users), n_items)
    item = np.tile(np.arange(n_items), n_users)
    return Interactions(user, item, n_users, n_items)


@pytest.mark.parametrize("name,k,count", [("ubp", 5, "4 users"), ("bekm", 5, "4 users"), ("ibp", 4, "3 items"),
                                          ("random", 13, "12 interactions"), ("inbp", 13, "12 interactions")])
def test_more_shards_than_units_is_refused(name, k, count):
    train = tiny_train()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError) as err:
        partition(name, train, k, 0, user_emb=rng.normal(size=(4, 2)), item_emb=rng.normal(size=(3, 2)))
    assert f"partition '{name}' with K = {k} shards: the training set has {count}" in str(err.value)
    assert "\n" not in str(err.value)


def test_an_empty_shard_is_refused():
    # identical user embeddings: every user is nearest to shard 0, which fills its cap, then shard 1, ...
    train = tiny_train()
    with pytest.raises(ValueError, match=r"partition 'ubp' with K = 3: shard 2 is empty \(shard sizes \[6, 6, 0\]\)"):
        partition("ubp", train, 3, 0, user_emb=np.zeros((4, 2)), item_emb=np.zeros((3, 2)), slack=1.2, rounds=2)


# ---------------------------------------------------------------------------- 7. smaller ones
def test_only_network_errors_are_retried(tmp_path, http_server):
    good = b"0 1 2\n"
    sha = hashlib.sha256(good).hexdigest()
    http_server.routes = {"/flaky": [503, ("cut", good), good], "/wrong": [good], "/gone": [404],
                          "/bad.zip": [b"PK\x03\x04 not really a zip"], "/down": [503]}
    got = fetch({"url": http_server.url("/flaky"), "sha256": sha}, tmp_path / "r" / "flaky", retries=3, backoff=0)
    assert got["sha256"] == sha and http_server.hits["/flaky"] == 3  # a 503 and a cut download, then success
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        fetch({"url": http_server.url("/wrong"), "sha256": "0" * 64}, tmp_path / "r" / "wrong", retries=3, backoff=0)
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch({"url": http_server.url("/gone")}, tmp_path / "r" / "gone", retries=3, backoff=0)
    with pytest.raises(DownloadError, match="not a valid zip archive"):
        fetch({"url": http_server.url("/bad.zip")}, tmp_path / "r" / "bad.zip", retries=3, backoff=0)
    with pytest.raises(DownloadError, match="no such file"):
        fetch({"url": str(tmp_path / "nope.csv")}, tmp_path / "r" / "nope.csv", retries=3, backoff=0)
    assert http_server.hits["/wrong"] == http_server.hits["/gone"] == http_server.hits["/bad.zip"] == 1
    with pytest.raises(NetworkError, match=r"HTTP 503 .*\(gave up after 3 attempts\)"):
        fetch({"url": http_server.url("/down")}, tmp_path / "r" / "down", retries=2, backoff=0)
    assert http_server.hits["/down"] == 3
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["flaky"]


@pytest.mark.parametrize("key", ["n_timed", "n_retrain_timed"])
def test_more_timed_requests_than_requests_is_refused(key):
    cfg = demo()
    cfg["unlearning"].update({"n_requests": 5, key: 6})
    with pytest.raises(ConfigError, match=rf"config key 'unlearning\.{key}': 6 exceeds unlearning\.n_requests = 5"):
        validate(cfg)


def test_hyperparameters_of_an_unknown_dataset_are_refused():
    cfg = demo()
    cfg["dataset_hyperparameters"] = {"ml-1m": {"WMF": {"c0": 0.1}}, "my-typo": {"WMF": {"c0": 0.1}}}
    with pytest.raises(ConfigError, match=r"config key 'dataset_hyperparameters\.my-typo': no dataset 'my-typo' in "
                                          r"the registry"):
        validate(cfg)


def test_a_zip_without_member_lists_its_members(tmp_path):
    z = tmp_path / "ml.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ml/ratings.dat", "1::2::3::4\n")
        zf.writestr("ml/README", "x")
    with pytest.raises(DataFormatError, match=rf"{z}: is a zip archive; set the source's 'member' to the file to read "
                                              r"\(members: ml/ratings.dat, ml/README\)"):
        read_raw("movielens_dat", [(str(z), None)])


@pytest.mark.parametrize("fmt", ["movielens_dat", "lightgcn", "csv"])
def test_a_latin1_byte_names_file_and_line(tmp_path, fmt):
    line = {"movielens_dat": b"2::caf\xe9::3::4\n", "lightgcn": b"2 caf\xe9\n", "csv": b"2,caf\xe9\n"}[fmt]
    first = {"movielens_dat": b"1::2::3::4\n", "lightgcn": b"1 2\n", "csv": b"user,item\n"}[fmt]
    path = tmp_path / "raw"
    path.write_bytes(first + line)
    with pytest.raises(DataFormatError, match=rf"{path}:2: byte 0xe9 is not UTF-8"):
        read_raw(fmt, [(str(path), None)])


@pytest.mark.parametrize("url", ["https://example.org/data/..", "https://example.org/data/%2e%2e", "data/.."])
def test_a_url_named_dotdot_needs_a_filename(url):
    cfg = config(url)
    with pytest.raises(ConfigError, match=r"config key 'registry\.mine\.sources\.0\.url': .*cannot derive a file name "
                                          r"\(its last element is '\.\.'\); set 'filename'"):
        validate(cfg)
    cfg["registry"]["mine"]["sources"][0]["filename"] = "mine.csv"
    validate(cfg)


def test_a_trailing_blank_line_in_a_csv_is_accepted(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("user,item\n1,2\n3,4\n\n")
    users, items = read_raw("csv", [(str(path), None)])
    assert users.tolist() == ["1", "3"] and items.tolist() == ["2", "4"]
    path.write_text("user,item\n1,2\n\n3,4\n")  # a blank line inside is still an error
    with pytest.raises(DataFormatError, match=rf"{path}:3: empty user or item id"):
        read_raw("csv", [(str(path), None)])


def test_a_truncated_npz_names_the_file(tmp_path):
    path = tmp_path / "train.npz"
    save_interactions(path, tiny_train())
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=rf"{path}: not a readable interaction set \(truncated or corrupt\? delete it"):
        load_interactions(path)


@pytest.mark.slow  # Snakemake runs: a few seconds each
def test_the_banner_claims_no_tables_for_a_partial_target(workdir):
    own = workdir / "data" / "mine.csv"
    own.parent.mkdir()
    own.write_text(ROWS)
    out = output(snakemake(workdir, config("data/mine.csv"), TARGET))
    assert f"recunlearn: done; built {TARGET}" in out and "results/tables/" not in out


# ---------------------------------------------------------------------------- 8. jobs run their workflow's library
@pytest.mark.slow  # Snakemake runs: a few seconds each
def test_jobs_import_the_library_of_their_own_clone(tmp_path):
    """A second clone run with this checkout's venv (whose editable install points here): its jobs must import the
    clone's recunlearn. The clone's __init__ records which file each process imported."""
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(ROOT / "Snakefile", clone / "Snakefile")
    for part in ("workflow", "src", "config", "envs"):  # the scripts' link to ../../src/recunlearn stays a link
        shutil.copytree(ROOT / part, clone / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    marker = tmp_path / "imports.txt"
    init = clone / "src" / "recunlearn" / "__init__.py"
    init.write_text(init.read_text() + "\nimport os as _os\n\nif _os.environ.get('RECUNLEARN_IMPORT_MARKER'):\n"
                    "    with open(_os.environ['RECUNLEARN_IMPORT_MARKER'], 'a') as _fh:\n"
                    "        _fh.write(f'{_os.getpid()} {__file__}\\n')\n")
    (clone / "data").mkdir()
    (clone / "data" / "mine.csv").write_text(ROWS)
    (clone / "bad.yaml").write_text(yaml.safe_dump(config("data/mine.csv")))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(clone / "Snakefile"), "--directory", str(clone),
           "--cores", "1", TARGET, "--configfile", str(clone / "bad.yaml")]
    env = {**os.environ, "RECUNLEARN_IMPORT_MARKER": str(marker), "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, output(proc)[-3000:]
    imports = [line.split(" ", 1) for line in marker.read_text().splitlines()]
    assert {path for _, path in imports} == {str(init)}
    # Snakemake itself, the download job and the preprocess job: each imported the clone's library
    assert len({pid for pid, _ in imports}) >= 3
