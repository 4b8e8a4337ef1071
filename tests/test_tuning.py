"""The validation tuner: seeded (the same trials twice), the config's settings tried first and never beaten by the
choice on validation, only the training and validation splits read, a bad search space a one-line config error."""

import json

import numpy as np
import pytest

from recunlearn import data as data_module
from recunlearn.config import ConfigError, load_yaml, validate_config
from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.jobs.sharding import run_partition
from recunlearn.jobs.tuning import run_tune_retrain, run_tune_submodel
from recunlearn.search_space import check_space, tuning_plan
from recunlearn.tuning import search

from conftest import ROOT, write_synthetic_splits

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
FAST = {"max_epochs": 4, "eval_every": 1, "patience": 2, "dim": 8}


def config(**tuning):
    cfg = validate_config({"datasets": ["synthetic"], "tuning": {"enabled": True, "trials": 3, "max_epochs": 3,
                                                                 **tuning}}, SCHEMA)
    return cfg


@pytest.fixture
def splits(tmp_path):
    return write_synthetic_splits(tmp_path, 50, 70, 14)


def tune_retrain(tmp_path, splits, name, model="BPR", **tuning):
    plan = tuning_plan(config(**tuning), "retrain", model)
    out = {"tuning": str(tmp_path / f"{name}.json"), "trials": str(tmp_path / f"{name}.csv")}
    run_tune_retrain(RunSpec("toy", model), JobContext(seed=3), Settings(FAST), plan,
                     {"train": splits["train"], "valid": splits["valid"]}, out)
    return json.loads(open(out["tuning"]).read())


def without_seconds(artefact):
    return [{k: v for k, v in t.items() if k != "seconds"} for t in artefact["trials"]]


def test_same_config_same_trials_and_the_first_trial_is_the_config(tmp_path, splits):
    a = tune_retrain(tmp_path, splits, "a")
    b = tune_retrain(tmp_path, splits, "b")
    assert without_seconds(a) == without_seconds(b) and a["chosen"] == b["chosen"]
    assert len(a["trials"]) == 3
    first = a["trials"][0]
    assert first["first"] and first["values"] == {k: a["base"][k] for k in first["values"]}
    # the config's own BPR settings (the model's defaults here, FAST over them), then two other draws
    assert first["values"]["lr"] == 0.05 and first["values"]["optimizer"] == "adagrad"
    assert a["trials"][1]["values"] != first["values"]
    completed = [t["value"] for t in a["trials"] if t["state"] == "complete"]
    assert a["best_value"] == max(completed) >= a["first_value"] == first["value"]
    assert a["chosen"] == a["trials"][a["best_trial"]]["values"]
    assert a["trained_on"]["sha256"] and a["validated_on"]["sha256"] and splits["test"] not in json.dumps(a)


def test_another_seed_draws_other_trials(tmp_path, splits):
    a = tune_retrain(tmp_path, splits, "a")
    cfg = config()
    cfg["training"]["seeds"] = [7]
    plan = tuning_plan(cfg, "retrain", "BPR")
    out = {"tuning": str(tmp_path / "c.json"), "trials": str(tmp_path / "c.csv")}
    run_tune_retrain(RunSpec("toy", "BPR"), JobContext(seed=3), Settings(FAST), plan,
                     {"train": splits["train"], "valid": splits["valid"]}, out)
    c = json.loads(open(out["tuning"]).read())
    assert c["trials"][0]["values"] == a["trials"][0]["values"]  # the config's own, whatever the seed
    assert c["trials"][1]["values"] != a["trials"][1]["values"]


def test_only_training_and_validation_are_read(tmp_path, splits, monkeypatch):
    read = []
    real = data_module.load_interactions

    def spy(path):
        read.append(str(path))
        return real(path)

    monkeypatch.setattr(data_module, "load_interactions", spy)
    tune_retrain(tmp_path, splits, "a", model="WMF")
    # sub-model tuning: the partition file names the shards, the sub-models see only theirs
    part = {"assignment": str(tmp_path / "assignment.npz"), "stats": str(tmp_path / "stats.json")}
    import torch

    from recunlearn.artefacts import save_state

    save_state({"user": torch.randn(50, 4), "item": torch.randn(70, 4)}, tmp_path / "emb.pt")
    run_partition(RunSpec("toy", partition="inbp", n_shards=3), JobContext(seed=0), {"rounds": 5},
                  {"train": splits["train"]}, tmp_path / "emb.pt", part)
    read.clear()
    plan = tuning_plan(config(shards=2), "submodel", "BPR")
    out = {"tuning": str(tmp_path / "s.json"), "trials": str(tmp_path / "s.csv")}
    run_tune_submodel(RunSpec("toy", "BPR", "inbp", 3), JobContext(seed=3), Settings(FAST), plan,
                      {"train": splits["train"], "valid": splits["valid"]}, part["assignment"], out)
    assert read and set(read) <= {splits["train"], splits["valid"]}
    assert splits["test"] not in read
    artefact = json.loads(open(out["tuning"]).read())
    assert artefact["shards"] == [0, 1] and len(artefact["trained_on"]) == 2
    assert artefact["trials"][0]["epochs"] and len(artefact["trials"][0]["epochs"]) == 2


def test_the_mean_objective_scores_meanagg_over_all_k_submodels(tmp_path, splits):
    """tuning.submodel_objective: mean trains the partition's K sub-models per trial and scores SISA's MeanAgg on the
    whole validation split: the first trial's value is MeanAgg's Recall@20 over sub-models trained by hand."""
    import torch

    from recunlearn.aggregators import AggregatorConfig, build
    from recunlearn.data import load_interactions
    from recunlearn.metrics import embedding_scorer, evaluate
    from recunlearn.sharded import shard_interactions, train_submodel
    from recunlearn.search_space import complete

    from recunlearn.artefacts import save_state

    save_state({"user": torch.zeros(50, 4), "item": torch.zeros(70, 4)}, tmp_path / "emb.pt")  # unused by random
    part = {"assignment": str(tmp_path / "assignment.npz"), "stats": str(tmp_path / "stats.json")}
    run_partition(RunSpec("toy", partition="random", n_shards=3), JobContext(seed=0), {}, {"train": splits["train"]},
                  tmp_path / "emb.pt", part)
    cfg = config(shards=1, submodel_objective={"random": "mean"}, trials=2)
    plan = tuning_plan(cfg, "submodel", "BPR")
    assert plan["objective"] == {"random": "mean"} and "objective" not in tuning_plan(cfg, "retrain", "BPR")
    with pytest.raises(ConfigError, match="tuning.submodel_objective.randon': unknown partition"):
        config(submodel_objective={"randon": "mean"})
    with pytest.raises(ConfigError, match="submodel_objective"):
        config(submodel_objective="aggregate")
    with pytest.raises(ConfigError, match="tuning.submodel_objective.random.BRP': unknown model"):
        config(submodel_objective={"random": {"BRP": "mean"}})
    # per partition and model: BPR's random sub-models take the mean, WMF's (not named) their own scores
    per_model = tuning_plan(config(shards=1, submodel_objective={"random": {"BPR": "mean"}}, trials=2), "submodel",
                            "BPR")
    other = {"tuning": str(tmp_path / "w.json"), "trials": str(tmp_path / "w.csv")}
    run_tune_submodel(RunSpec("toy", "WMF", "random", 3), JobContext(seed=3), Settings(FAST), per_model,
                      {"train": splits["train"], "valid": splits["valid"]}, part["assignment"], other)
    assert json.loads(open(other["tuning"]).read())["submodel_objective"] == "submodels"
    out = {"tuning": str(tmp_path / "s.json"), "trials": str(tmp_path / "s.csv")}
    run_tune_submodel(RunSpec("toy", "BPR", "random", 3), JobContext(seed=3), Settings(FAST), per_model,
                      {"train": splits["train"], "valid": splits["valid"]}, part["assignment"], out)
    artefact = json.loads(open(out["tuning"]).read())
    assert artefact["submodel_objective"] == "mean" and artefact["shards"] == [0, 1, 2]  # all K, whatever tuning.shards
    assert len(artefact["trials"][0]["epochs"]) == 3
    train, valid = load_interactions(splits["train"]), load_interactions(splits["valid"])
    params = {**complete("BPR", FAST), "max_epochs": min(FAST["max_epochs"], plan["max_epochs"])}
    subs = [train_submodel("BPR", params, shard_interactions(train, part["assignment"], s), valid, 3, "cpu", "s")[1]
            for s in range(3)]
    with torch.no_grad():
        embs = [r.model.embeddings() for r in subs]
        mean = build("mean", torch.stack([p for p, _ in embs]), torch.stack([q for _, q in embs]),
                     AggregatorConfig(), train)
        expected = evaluate(embedding_scorer(*mean.embeddings()), valid, [train], [20])[("Recall", 20)]
    assert artefact["trials"][0]["value"] == pytest.approx(expected, abs=1e-6)


def test_trials_are_written_as_csv(tmp_path, splits):
    import pandas as pd

    tune_retrain(tmp_path, splits, "a")
    rows = pd.read_csv(tmp_path / "a.csv")
    assert list(rows["trial"]) == [0, 1, 2] and {"param_lr", "param_optimizer", "value", "state"} <= set(rows)


def test_pruned_trials_are_recorded_and_never_chosen():
    space = {"x": {"low": 0.0, "high": 1.0, "log": False, "int": False}}

    def objective(values, report):
        for step in range(15):
            report(step, values["x"])  # a trial's curve is flat at x: below the median, it is pruned
        return values["x"], {}

    found = search(objective, space, {"x": 0.5}, trials=12, seed=0, label="toy")
    states = [t["state"] for t in found["trials"]]
    assert states[:4] == ["complete"] * 4 and "pruned" in states  # 4 startup trials are never pruned
    assert found["trials"][0]["values"] == {"x": 0.5}
    best = max(t["value"] for t in found["trials"] if t["state"] == "complete")
    assert found["best_value"] == best and found["chosen"] == {"x": best}


def test_values_drawn_again_are_not_trained_again():
    space = {"x": {"choices": [1, 2]}}
    calls = []

    def objective(values, report):
        calls.append(values["x"])
        return float(values["x"]), {}

    found = search(objective, space, {"x": 1}, trials=6, seed=0, label="toy")
    assert sorted(calls) == [1, 2] and len(found["trials"]) == 6
    assert all(t["value"] == t["values"]["x"] for t in found["trials"])
    assert found["chosen"] == {"x": 2} and sum("repeat_of" in t for t in found["trials"]) == 4


@pytest.mark.parametrize(
    "space,message",
    [
        ({"retrain": {"BPR": {"lrr": {"low": 0.1, "high": 1}}}},
         "config key 'tuning.search_space.retrain.BPR.lrr': not a tunable key here (expected one of: batch_size,"),
        ({"retrain": {"BPR": {"lr": {"low": 0.1, "high": 0.01}}}},
         "config key 'tuning.search_space.retrain.BPR.lr': low 0.1 must be below high 0.01"),
        ({"submodel": {"WMF": {"c0": {"low": 0, "high": 0.5, "log": True}}}},
         "config key 'tuning.search_space.submodel.WMF.c0': a log range needs low > 0, got 0"),
        ({"retrain": {"BPR": {"optimizer": {"choices": ["adam", "rmsprop"]}}}},
         "config key 'tuning.search_space.retrain.BPR.optimizer.choices': 'rmsprop' is not a valid value of optimizer"),
        ({"retrain": {"BPR": {"batch_size": {"low": 1.5, "high": 8}}}},
         "config key 'tuning.search_space.retrain.BPR.batch_size.low': batch_size is an integer, got 1.5"),
        ({"retrain": {"BPR": {"optimizer": {"low": 1, "high": 2}}}},
         "config key 'tuning.search_space.retrain.BPR.optimizer': optimizer is not numeric, so it takes choices"),
        ({"retrain": {"BPR": {"lr": {"choices": []}}}},
         "config key 'tuning.search_space.retrain.BPR.lr.choices': expected a non-empty list, got []"),
        ({"retrain": {"MF": {"lr": {"low": 0.1, "high": 1}}}},
         "config key 'tuning.search_space.retrain.MF': unknown model (expected one of:"),
        ({"aggregator": {"att": {"keep_prob": {"low": 0.5, "high": 1.5}}}},
         "config key 'tuning.search_space.aggregator.att.keep_prob.high': 1.5 is not a valid value of keep_prob"),
        ({"aggregator": {"mean": {"lr": {"low": 0.1, "high": 1}}}},
         "config key 'tuning.search_space.aggregator.mean': MeanAgg trains nothing, so it has nothing to tune"),
    ],
)
def test_a_bad_search_space_is_a_one_line_config_error(space, message):
    cfg = {"datasets": ["synthetic"], "tuning": {"enabled": True, "search_space": space}}
    if message is None:
        validate_config(cfg, SCHEMA)
        return
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_budget_keys_are_checked():
    with pytest.raises(ConfigError, match="config key 'tuning.trials': 0 is less than the minimum of 1"):
        validate_config({"datasets": ["synthetic"], "tuning": {"trials": 0}}, SCHEMA)
    with pytest.raises(ConfigError, match="config key 'tuning.trials"):
        validate_config({"datasets": ["synthetic"], "tuning": {"trials": {"retrain": 0}}}, SCHEMA)
    with pytest.raises(ConfigError, match="config key 'tuning.max_epochs"):
        validate_config({"datasets": ["synthetic"], "tuning": {"max_epochs": {"pretrain": 3}}}, SCHEMA)
    with pytest.raises(ConfigError, match="config key 'tuning.targets.0': 'pretrain' is not one of"):
        validate_config({"datasets": ["synthetic"], "tuning": {"targets": ["pretrain"]}}, SCHEMA)


def test_declared_spaces_and_overrides():
    cfg = config(search_space={"retrain": {"BPR": {"sampling": None, "lr": {"low": 1e-3, "high": 1e-1}}}})
    plan = tuning_plan(cfg, "retrain", "BPR")
    assert "sampling" not in plan["space"] and plan["space"]["lr"] == {"low": 1e-3, "high": 1e-1, "log": False,
                                                                         "int": False}
    assert "sampling" in tuning_plan(cfg, "submodel", "BPR")["space"]  # the override is per target
    assert {"c0", "keep_prob"} <= set(tuning_plan(cfg, "retrain", "WMF")["space"])
    assert set(tuning_plan(cfg, "aggregator", "BPR", "att")["space"]) == {"lr", "reg_weight", "keep_prob"}
    assert tuning_plan(cfg, "aggregator", "BPR", "mean") == {}  # nothing to learn
    assert tuning_plan(config(enabled=False), "retrain", "BPR") == {}
    assert tuning_plan(config(targets=["submodel"]), "retrain", "BPR") == {}
    assert plan["trials"] == 3 and plan["max_epochs"] == 3 and plan["seed"] == cfg["training"]["seeds"][0]
    per = config(trials={"retrain": 5, "aggregator": 2}, max_epochs={"aggregator": 7})
    assert [tuning_plan(per, t, "BPR", "att")["trials"] for t in ("retrain", "submodel", "aggregator")] == [5, 20, 2]
    assert [tuning_plan(per, t, "BPR", "att")["max_epochs"] for t in ("retrain", "submodel", "aggregator")] == [50, 50, 7]


def test_every_registered_model_declares_a_valid_space():
    from recunlearn.config import dataclass_schema
    from recunlearn.models import MODELS

    for name, entry in MODELS.items():
        space = check_space(entry.config.search_space, dataclass_schema(entry.config)["properties"], name)
        assert {"lr", "optimizer"} <= set(space), name


def test_shipped_configs_with_tuning_are_valid():
    for name in ("paper_splits.yaml", "demo.yaml", "ml100k.yaml"):
        cfg = load_yaml(ROOT / "config" / "config.yaml")
        cfg.update(load_yaml(ROOT / "config" / name))
        validate_config(cfg, SCHEMA)


def test_trial_epochs_are_capped(tmp_path, splits):
    a = tune_retrain(tmp_path, splits, "a", max_epochs=2)
    assert all(t["epochs"] <= 2 for t in a["trials"] if t["state"] == "complete")
    assert np.isfinite(a["best_value"])
    # a chosen training length is what its trial trained: never above the budget's cap
    b = tune_retrain(tmp_path, splits, "b", max_epochs=2,
                     search_space={"retrain": {"BPR": {"keep": {"choices": ["best", "last"]},
                                                       "max_epochs": {"choices": [4, 6, 200]}}}})
    assert b["chosen"]["max_epochs"] == 2 and {t["values"]["max_epochs"] for t in b["trials"]} <= {4, 6, 200}


@pytest.mark.slow
def test_a_tuned_workflow_trains_with_the_choice_and_is_not_tuned_again(workdir):
    import yaml

    from conftest import TINY_CONFIG, run_snakemake

    cfg = {**TINY_CONFIG, "training": {**TINY_CONFIG["training"], "seeds": [2022, 2023]},
           "tuning": {"enabled": True, "trials": 3, "max_epochs": 3, "shards": 1},
           "sharding": {**TINY_CONFIG["sharding"], "shard_jobs": "per_partition"},
           # tuning is what is tested: the forgetting check, user deletion and RecEraser-fast run untuned elsewhere
           "unlearning": {**TINY_CONFIG["unlearning"], "methods": ["RecEraser"]},
           "forgetting": {"enabled": False}, "user_unlearning": {"enabled": False}}
    conf = workdir / "tuned.yaml"
    conf.write_text(yaml.safe_dump(cfg))
    run_snakemake(workdir, "--configfile", str(conf))
    run = workdir / "results" / "synthetic" / "BPR"
    tuned = json.loads((run / "seed2022" / "tuning" / "retrain.json").read_text())
    assert len(tuned["trials"]) == 3 and tuned["validated_on"]["sha256"]
    for seed in (2022, 2023):  # every seed trains with the first seed's choice
        sidecar = json.loads((run / f"seed{seed}" / "retrain" / "model.json").read_text())
        assert {k: sidecar["config"][k] for k in tuned["chosen"]} == tuned["chosen"]
    sub = json.loads((run / "seed2022" / "tuning" / "submodel_inbp_K3.json").read_text())
    shard = json.loads((run / "seed2023" / "inbp_K3" / "shard_2" / "model.json").read_text())
    assert {k: shard["config"][k] for k in sub["chosen"]} == sub["chosen"]
    att = json.loads((run / "seed2022" / "inbp_K3" / "att" / "tuning.json").read_text())
    assert len(att["trials"]) == 3 and set(att["chosen"]) == {"lr", "reg_weight", "keep_prob"}
    other = json.loads((run / "seed2023" / "inbp_K3" / "att" / "tuning.json").read_text())
    assert other["chosen"] == att["chosen"] and other["tuned_by"].endswith("seed2022/inbp_K3/att/tuning.json")
    served = json.loads((run / "seed2022" / "inbp_K3" / "att" / "aggregator.json").read_text())
    assert {k: served["config"][k] for k in att["chosen"]} == att["chosen"]
    # the unlearning retrains the aggregator with the choice the served one was trained with
    unlearned = sorted((run / "seed2022" / "inbp_K3" / "att" / "unlearn_sequential" / "artefacts").glob("*aggregator*.json"))
    assert unlearned
    for path in unlearned:
        assert {k: json.loads(path.read_text())["config"][k] for k in att["chosen"]} == att["chosen"]
    assert json.loads((run / "seed2022" / "unlearning" / "audit.json").read_text())["passed"]
    note = (workdir / "results" / "tables" / "table_6_3.md").read_text()
    assert "synthetic BPR: settings tuned on the validation split (seed 2022;" in note and "inbp+att 3 trials" in note
    # a second run finds nothing to do: no tuning job runs again
    again = run_snakemake(workdir, "--configfile", str(conf), "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
    # nor after the threads change: they decide no job's output beyond the tolerance of docs/guide/reproducibility.md (a
    # job's params hold only what its output depends on)
    cfg["training"]["threads"] = 2
    conf.write_text(yaml.safe_dump(cfg))
    again = run_snakemake(workdir, "--configfile", str(conf), "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
    # a third seed plans only that seed's jobs, and the gathering jobs (tables, figures, the scorecard, the report)
    cfg["training"]["seeds"] = [2022, 2023, 2024]
    conf.write_text(yaml.safe_dump(cfg))
    planned = planned_outputs(run_snakemake(workdir, "--configfile", str(conf), "-n").stdout)
    assert planned
    per_seed = [p for p in planned if "/seed" in p]
    assert per_seed and all("/seed2024/" in p for p in per_seed), sorted(p for p in per_seed if "/seed2024/" not in p)
    assert all(p.startswith(("results/tables/", "results/figures/", "results/report/", "results/metrics.csv"))
               for p in planned if "/seed" not in p), sorted(planned)


def planned_outputs(dry_run: str) -> list[str]:
    """The output files of every job a Snakemake dry run plans."""
    return [path.strip() for line in dry_run.splitlines() if line.strip().startswith("output:")
            for path in line.split("output:", 1)[1].split(",")]


def test_only_the_submodels_tuning_reads_the_shards_and_at_most_k_of_them():
    cfg = load_yaml(ROOT / "config" / "demo.yaml")
    cfg["tuning"] = {**cfg["tuning"], "enabled": True, "shards": 50}
    validate_config(cfg, SCHEMA)
    assert "shards" not in tuning_plan(cfg, "retrain", "BPR") and "shards" not in tuning_plan(cfg, "aggregator", "BPR",
                                                                                               "att")
    assert tuning_plan(cfg, "submodel", "BPR")["shards"] == cfg["sharding"]["n_shards"] < 50


def test_the_configs_own_value_must_be_among_the_choices():
    """The first trial is the config's own settings: a choice list without them is a one-line config error, not an
    Optuna failure inside the tuning job."""
    with pytest.raises(ConfigError, match=r"tuning.search_space.submodel.BPR.max_epochs': the config's own "
                                          r"max_epochs \(200 on synthetic\).*not among the choices \[25, 50\]"):
        config(search_space={"submodel": {"BPR": {"max_epochs": {"choices": [25, 50]}}}})
    config(search_space={"submodel": {"BPR": {"max_epochs": {"choices": [25, 200]}}}})


def test_the_configs_own_aggregation_value_must_be_among_an_aggregators_choices():
    """The same for an aggregator's space: its first trial is the config's aggregation section (aggregation.reg_weight
    1e-5). MembAgg's declared choices hold it; an override without it is a one-line config error."""
    config(search_space={})  # the declared spaces, MembAgg's included, hold the config's own values
    with pytest.raises(ConfigError, match=r"tuning.search_space.aggregator.memb.reg_weight': the config's own "
                                          r"reg_weight \(aggregation.reg_weight: 1e-05\).*not among the choices"):
        config(search_space={"aggregator": {"memb": {"reg_weight": {"choices": [0.0, 0.01]}}}})
