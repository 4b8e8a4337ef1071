"""Base models and the trainer: smoke tests, graph maths, sampling, absent nodes, determinism, checkpoints."""

import dataclasses

import numpy as np
import pytest
import torch

from recunlearn.artefacts import load_state, save_state
from recunlearn.config import load_yaml
from recunlearn.data import Interactions, split_per_user
from recunlearn.models import MODELS, model_class, model_config
from recunlearn.models.lightgcn import SymmetricSpMM, normalized_adjacency
from recunlearn.sampling import NegativeSampler, user_batches
from recunlearn.synthetic import SyntheticConfig, generate
from recunlearn.train import fit, resolve_device

from conftest import ROOT

FAST = {"max_epochs": 3, "eval_every": 1, "patience": 5, "dim": 16}


def small_data(seed=0, n_users=60, n_items=90):
    out = generate(SyntheticConfig(n_users=n_users, n_items=n_items, n_communities=3, mean_interactions=15,
                                   min_interactions=5, max_interactions=40, seed=seed))
    x = Interactions(out["user"], out["item"], n_users, n_items)
    label = split_per_user(x.user, n_users, (0.8, 0.1, 0.1), seed=1)
    return [Interactions(x.user[label == k], x.item[label == k], n_users, n_items) for k in range(3)]


@pytest.mark.parametrize("name", list(MODELS))
def test_one_epoch_smoke(name):
    train, valid, _ = small_data()
    res = fit(name, model_config(name, {**FAST, "max_epochs": 1}), train, valid, seed=0)
    p, q = res.model.embeddings()
    assert p.shape == (60, 16) and q.shape == (90, 16)
    scores = res.model.full_sort_predict(torch.arange(5))
    assert scores.shape == (5, 90) and torch.isfinite(scores).all()
    assert res.epochs_run == 1 and len(res.history) == 1 and res.train_seconds > 0


@pytest.mark.parametrize("name", list(MODELS))
def test_same_seed_same_model(name):
    train, valid, _ = small_data()
    a = fit(name, model_config(name, FAST), train, valid, seed=5)
    b = fit(name, model_config(name, FAST), train, valid, seed=5)
    c = fit(name, model_config(name, FAST), train, valid, seed=6)
    sa, sb, sc = a.model.state_dict(), b.model.state_dict(), c.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a.history == [dict(h, seconds=a.history[i]["seconds"]) for i, h in enumerate(b.history)]
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


@pytest.mark.parametrize("name", list(MODELS))
def test_absent_users_and_items_keep_their_initial_embedding(name):
    train, valid, _ = small_data()
    keep = (train.user >= 10) & (train.item >= 15)  # users 0-9 and items 0-14 absent from this "shard"
    shard = Interactions(train.user[keep], train.item[keep], train.n_users, train.n_items)
    cfg = model_config(name, FAST)
    torch.manual_seed(3)
    init = model_class(name)(shard.n_users, shard.n_items, cfg, shard).state_dict()
    trained = fit(name, cfg, shard, valid, seed=3).model.state_dict()
    for key in ("user_emb", "item_emb"):
        n_absent = 10 if key == "user_emb" else 15
        assert torch.equal(trained[key][:n_absent], init[key][:n_absent]), key
        assert not torch.equal(trained[key][n_absent:], init[key][n_absent:]), key


def test_best_parameters_are_kept():
    train, valid, _ = small_data()
    res = fit("BPR", model_config("BPR", {**FAST, "max_epochs": 8, "lr": 0.5}), train, valid, seed=0)
    best = max(h["valid_recall@10"] for h in res.history)
    assert res.best_valid_recall == best
    assert res.best_epoch == next(h["epoch"] for h in res.history if h["valid_recall@10"] == best)


def test_keep_last_trains_every_epoch_and_keeps_the_last_parameters():
    """keep: last (the authors' protocol) never stops early and returns the parameters after max_epochs, while
    keep: best, on the same run, stops after `patience` evaluations without improvement and restores the best."""
    train, valid, _ = small_data()
    params = {**FAST, "max_epochs": 8, "lr": 0.5, "patience": 1}
    best = fit("BPR", model_config("BPR", params), train, valid, seed=0)
    last = fit("BPR", model_config("BPR", {**params, "keep": "last"}), train, valid, seed=0)
    assert last.epochs_run == 8 and last.best_epoch == 8 and len(last.history) == 8
    assert best.epochs_run < 8 or best.best_epoch < 8  # this run does stop or restore: the two differ
    # the kept model is the one after the 8th epoch: it scores as the history's last evaluation says
    from recunlearn.metrics import embedding_scorer, evaluate

    with torch.no_grad():
        p, q = last.model.embeddings()
    assert evaluate(embedding_scorer(p, q), valid, [train], [10])[("Recall", 10)] == pytest.approx(
        last.history[-1]["valid_recall@10"])
    # the first epochs of both runs are the same training
    assert [h["loss"] for h in best.history] == [h["loss"] for h in last.history[: len(best.history)]]


def test_out_of_range_training_ids_fail_clearly():
    train, valid, _ = small_data()
    bad = Interactions(np.append(train.user, 60), np.append(train.item, 0), 60, 90)
    with pytest.raises(ValueError, match=r"user id 60 out of range \[0, 60\)"):
        fit("BPR", model_config("BPR", FAST), bad, valid, seed=0, label="shard 3")


def test_checkpoint_round_trip(tmp_path):
    train, valid, _ = small_data()
    res = fit("LightGCN", model_config("LightGCN", FAST), train, valid, seed=0)
    save_state(res.model.state_dict(), tmp_path / "model.pt")
    state = load_state(tmp_path / "model.pt")  # torch.load(weights_only=True)
    fresh = model_class("LightGCN")(60, 90, model_config("LightGCN", FAST), train)
    fresh.load_state_dict(state)
    fresh.eval()
    with torch.no_grad():
        assert torch.equal(fresh.full_sort_predict(torch.arange(60)), res.model.full_sort_predict(torch.arange(60)))
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_normalized_adjacency_matches_dense_formula():
    x = Interactions(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 0, 2]), 4, 3)  # user 3 isolated
    a = normalized_adjacency(x).to_dense()
    dense = torch.zeros(7, 7)
    for u, i in zip(x.user, x.item):
        dense[u, 4 + i] = dense[4 + i, u] = 1
    deg = dense.sum(1)
    inv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    assert torch.allclose(a, inv[:, None] * dense * inv[None, :])
    e = torch.randn(7, 3, requires_grad=True)
    (SymmetricSpMM.apply(normalized_adjacency(x), e) ** 2).sum().backward()
    e2 = e.detach().clone().requires_grad_(True)
    ((a @ e2) ** 2).sum().backward()
    assert torch.allclose(e.grad, e2.grad, atol=1e-6)


def test_negative_sampler_avoids_positives_and_absent_items():
    train, _, _ = small_data()
    keep = train.item < 70
    shard = Interactions(train.user[keep], train.item[keep], 60, 90)
    sampler = NegativeSampler(shard)
    users = torch.from_numpy(np.repeat(shard.user, 20))
    neg = sampler.sample(users, torch.Generator().manual_seed(0))
    positives = set(zip(shard.user.tolist(), shard.item.tolist()))
    assert not any((u, j) in positives for u, j in zip(users.tolist(), neg.tolist()))
    assert set(neg.tolist()) <= set(np.unique(shard.item).tolist())


def test_user_batches_cover_every_positive_once():
    train, _, _ = small_data()
    seen = []
    for users, rows, items in user_batches(train, 7, torch.Generator().manual_seed(0)):
        seen += list(zip(users[rows].tolist(), items.tolist()))
    assert sorted(seen) == sorted(zip(train.user.tolist(), train.item.tolist()))


def test_device_auto_and_unknown_hyperparameter():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="model 'WMF': unknown hyper-parameter 'c1'"):
        model_config("WMF", {"c1": 0.3})


def test_the_schema_takes_each_model_from_its_config_dataclass():
    """One source of defaults: the schema file names no model; its hyper-parameter sections are generated from the
    config dataclasses, with their defaults, types and constraints (a hand-checked sample)."""
    from recunlearn.config import load_schema

    text = (ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text()
    assert "n_layers" not in text and "keep probability of the dropout on user" not in text
    hp = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")["properties"]["hyperparameters"]["properties"]
    assert set(hp) == set(MODELS)
    for name, entry in MODELS.items():
        assert {k: v["default"] for k, v in hp[name]["properties"].items()} == {
            f.name: f.default for f in dataclasses.fields(entry.config)}
    assert hp["WMF"]["properties"]["c0"] == {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2,
                                             "description": "weight of missing entries (0.2 MovieLens, 0.05 yelp2018 "
                                                            "in the authors' code)"}
    assert hp["LightGCN"]["properties"]["optimizer"]["default"] == "adam"
    assert hp["LightGCN"]["properties"]["optimizer"]["enum"] == ["adagrad", "adam", "sgd"]
    assert hp["BPR"]["properties"]["dim"] == {"type": "integer", "minimum": 1, "default": 64,
                                             "description": "embedding size d"}


def test_config_readme_shows_the_generated_hyperparameter_table():
    """config/README.md's table of base-model hyper-parameters is the one generated from the dataclasses."""
    from recunlearn.config import hyperparameter_table

    text = (ROOT / "config" / "README.md").read_text()
    block = text.split("<!-- hyperparameters: generated by python -m recunlearn.config -->\n", 1)[1]
    assert block.split("\n<!-- /hyperparameters -->", 1)[0] == hyperparameter_table()
    assert "| `c0` | - | - | 0.2 |" in block  # WMF's own key, the defaults of the others shown as "-"


def test_aggregation_and_synthetic_defaults_match_their_dataclasses():
    """The schema's aggregation section is generated from AggregatorConfig (the keys it declares, not those it
    inherits and does not set); the synthetic section states SyntheticConfig's defaults."""
    from recunlearn.aggregators import AggregatorConfig
    from recunlearn.config import load_schema

    text = (ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text()
    assert "attention size k of AttAgg" not in text
    aggregation = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")["properties"]["aggregation"]
    props = aggregation["properties"]
    assert {"lr", "attention_size", "keep_prob", "triples", "refit_reg"} <= set(props)
    assert not {"dim", "init_std", "sampling", "keep"} & set(props)
    assert props["lr"]["default"] == 0.05 and props["optimizer"]["enum"] == ["adagrad", "adam", "sgd"]
    assert props["init"] == {"enum": ["normal", "identity"], "default": "normal",
                             "description": "AttAgg's W_i and b_i at the start: Xavier-normal (the authors' code) or "
                                            "the identity plus noise"}
    assert aggregation["additionalProperties"] is False
    schema = load_yaml(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    for section, cls in ((aggregation, AggregatorConfig), (schema["$defs"]["synthetic"], SyntheticConfig)):
        documented = {k: v["default"] for k, v in section["properties"].items() if "default" in v}
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        assert documented, section
        assert {k: defaults[k] for k in documented} == documented, section




def test_schema_of_a_config_written_without_string_annotations():
    """A model file without ``from __future__ import annotations`` gets the same schema; an unsupported type is
    refused in one line naming the field."""
    from recunlearn.config import ConfigError, dataclass_schema

    plain = dataclasses.make_dataclass("Plain", [("dim", int, dataclasses.field(default=8)),
                                                 ("lr", float, dataclasses.field(default=0.1))], frozen=True)
    props = dataclass_schema(plain)["properties"]
    assert props["dim"]["type"] == "integer" and props["lr"]["type"] == "number" and props["lr"]["default"] == 0.1
    listy = dataclasses.make_dataclass("Listy", [("ids", list, dataclasses.field(default_factory=list))])
    with pytest.raises(ConfigError, match="Listy.ids: type list has no config schema"):
        dataclass_schema(listy)


@pytest.mark.determinism
@pytest.mark.parametrize("name", ["WMF", "LightGCN"])
def test_two_threads_train_the_same_model_twice(name):
    """Same seed, two CPU threads: bit-identical models. Advanced-indexing backward (index_put_ with accumulate)
    adds in a thread-dependent order unless torch's deterministic algorithms are on, which fit turns on; on
    MovieLens-100K this made two runs of the same configuration differ (the demo runs one thread per job)."""
    out = generate(SyntheticConfig(n_users=600, n_items=800, n_communities=8, mean_interactions=60,
                                   min_interactions=20, max_interactions=200, seed=3))
    x = Interactions(out["user"], out["item"], 600, 800)
    label = split_per_user(x.user, 600, (0.8, 0.1, 0.1), seed=1)
    train, valid = (Interactions(x.user[label == k], x.item[label == k], 600, 800) for k in (0, 1))
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        runs = []
        for _ in range(3):
            res = fit(name, model_config(name, {"max_epochs": 2, "patience": 5, "dim": 32}), train, valid, 7, "cpu")
            runs.append([t.detach().clone() for t in res.model.embeddings()])
    finally:
        torch.set_num_threads(previous)
    for other in runs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(runs[0], other))


def test_device_resolution_on_machines_with_and_without_usable_gpus(monkeypatch):
    """Monkeypatched CUDA: `auto` with training.gpus 0 stays on the CPU; a cuda:N beyond the visible devices, CUDA
    asked for where there is none, and a job given a GPU torch cannot use are one-line errors."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("auto") == torch.device("cuda") and resolve_device("auto", gpus=0).type == "cpu"
    assert resolve_device("cuda:0") == torch.device("cuda:0") and resolve_device("cpu").type == "cpu"
    with pytest.raises(RuntimeError, match=r"device 'cuda:1': only 1 CUDA device\(s\) visible .*SLURM"):
        resolve_device("cuda:1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert resolve_device("auto", gpus=1).type == "cpu"  # a CPU machine: auto is the CPU
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        resolve_device("cuda")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # SLURM gave this job a GPU torch cannot use
    with pytest.raises(RuntimeError, match=r"given GPU\(s\) 0 .*training.device: cpu"):
        resolve_device("auto", gpus=1)
    assert resolve_device("auto", gpus=0).type == "cpu" and resolve_device("cpu", gpus=1).type == "cpu"
    with pytest.raises(RuntimeError) as error:
        resolve_device("auto", gpus=1)
    assert "\n" not in str(error.value)


def test_sidecars_record_the_device_and_on_cuda_its_version_and_gpu(monkeypatch):
    from recunlearn.train import device_info

    assert device_info("cpu") == {"device": "cpu", "bit_reproducible": True}
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "A100-SXM4-40GB")
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    assert device_info("cuda:0") == {"device": "cuda:0", "cuda_version": "12.4", "gpu": "A100-SXM4-40GB",
                                     "bit_reproducible": False}


def test_auto_spreads_local_jobs_over_several_gpus(monkeypatch):
    """With several visible GPUs, `auto` takes the one with the most free memory (a busy cuda:0 is passed over)."""
    free = {0: 1 << 30, 1: 8 << 30, 2: 8 << 30}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (free[i], 16 << 30))
    assert resolve_device("auto") == torch.device("cuda:1")  # the first of the freest
    free[2] = 12 << 30
    assert resolve_device("auto") == torch.device("cuda:2")


def test_seeding_turns_deterministic_algorithms_on_without_loading_the_compiler():
    """seed_everything sets torch's deterministic flag on the CPU (off for CUDA) as torch.use_deterministic_algorithms
    does, without importing torch._inductor (seconds per job process); with the compiler loaded, its flag follows."""
    import subprocess
    import sys

    code = ("import sys, torch\n"
            "from recunlearn.train import seed_everything\n"
            "seed_everything(0)\n"
            "on, loaded = torch.are_deterministic_algorithms_enabled(), 'torch._inductor' in sys.modules\n"
            "seed_everything(0, 'cuda')\n"
            "off = not torch.are_deterministic_algorithms_enabled()\n"
            "import torch._inductor.config as c\n"
            "seed_everything(0)\n"
            "print(on, loaded, off, c.deterministic)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False", "True", "True"]
