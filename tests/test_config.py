"""Config validation: defaults filled in, and one-line errors that name the key and what was expected."""

import copy
import re

import pytest

from recunlearn.config import ConfigError, load_schema, load_yaml, merge_configs, validate_config
from recunlearn.datasets import BUILTIN

from conftest import ROOT, run_snakemake

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def demo():
    return load_yaml(ROOT / "config" / "demo.yaml")


def test_shipped_configs_are_valid():
    for name in ("config.yaml", "demo.yaml"):
        cfg = validate_config(load_yaml(ROOT / "config" / name), SCHEMA)
        assert cfg["evaluation"]["ks"] == [10, 20, 50]
    assert validate_config(load_yaml(ROOT / "config" / "config.yaml"), SCHEMA)["datasets"] == ["yelp2018", "ml-1m", "ml-10m"]


def test_defaults_are_filled_in():
    cfg = validate_config({"datasets": ["synthetic"]}, SCHEMA)
    assert cfg["split"] == {"train": 0.8, "valid": 0.1, "test": 0.1, "seed": 2022, "min_user_interactions": 3,
                            "given_valid": 0.1}  # no split.mode: each dataset's own (random unless its entry says)
    assert cfg["download"]["retries"] == 3


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda c: c.update(bogus=1), "config key 'bogus': unknown key (allowed here: aggregation, approximate, dataset_hyperparameters,"),
        (lambda c: c["split"].update(seeed=1), "config key 'split.seeed': unknown key"),
        (lambda c: c["split"].update(valid=1.5), "config key 'split.valid': 1.5 is greater than or equal to the maximum of 1"),
        (lambda c: c["evaluation"].update(ks=[10, "x"]), "config key 'evaluation.ks.1': 'x' is not of type 'integer'"),
        (lambda c: c.update(datasets=["nope"]), "config key 'datasets': unknown dataset 'nope' (expected one of:"),
        (lambda c: c["split"].update(train=0.7), "train + valid + test must sum to 1"),
        (lambda c: c["registry"]["synthetic"].update(format="parquet"), "config key 'registry.synthetic.format': 'parquet' is not one of"),
        (lambda c: c["registry"].update(x={"format": "csv", "sources": [{"url": "a.csv", "md5": "abc"}]}),
         "config key 'registry.x.sources.0.md5': 'abc' does not match"),
        (lambda c: c["registry"].update(x={"format": "csv"}) or c.update(datasets=["x"]),
         "config key 'registry.x.sources': format 'csv' needs at least one source"),
        (lambda c: c.update(user_unlearning={"users": 1.5}),
         "config key 'user_unlearning.users': 1.5 (expected a share in (0, 1) or a whole count of at least 1 users)"),
        (lambda c: c.update(user_unlearning={"selections": ["middle"]}),
         "config key 'user_unlearning.selections.0': 'middle' is not one of ['random', 'core', 'edge']"),
        (lambda c: c.update(forgetting={"members": 0}),
         "config key 'forgetting.members': 0 is less than or equal to the minimum of 0"),
        (lambda c: c.update(approximate={"methods": ["newton"]}),
         "config key 'approximate.methods.0': 'newton' is not one of ['finetune', 'scif', 'ifru']"),
        (lambda c: c.update(approximate={"scif": {"k_hops": 1}}), "config key 'approximate.scif.k_hops': unknown key"),
        (lambda c: c.update(approximate={"ifru": {"damping": -1}}),
         "config key 'approximate.ifru.damping': -1 is less than the minimum of 0"),
        (lambda c: c.update(approximate={"ifru": {"keep_share": 0}}),
         "config key 'approximate.ifru.keep_share': 0 is less than or equal to the minimum of 0"),
        (lambda c: c.update(approximate={"finetune": {"epochs": 2.5}}),
         "config key 'approximate.finetune.epochs': 2.5 is not of type 'integer'"),
    ],
)
def test_errors_name_the_key(mutate, message):
    cfg = copy.deepcopy(demo())
    mutate(cfg)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    text = str(err.value)
    assert message in text and "\n" not in text


def test_seeds():
    assert validate_config({"datasets": ["synthetic"]}, SCHEMA)["training"]["seeds"] == [2022]
    paper = validate_config(load_yaml(ROOT / "config" / "config.yaml"), SCHEMA)
    assert paper["training"]["seeds"] == [2022, 2023, 2024]
    assert validate_config(demo(), SCHEMA)["training"]["seeds"] == [2022]
    for bad, message in (([], "config key 'training.seeds': [] should be non-empty"),
                         ([1, 1], "config key 'training.seeds': [1, 1] has non-unique elements"),
                         ([-1], "config key 'training.seeds.0': -1 is less than the minimum of 0")):
        cfg = demo()
        cfg["training"]["seeds"] = bad
        with pytest.raises(ConfigError, match=re.escape(message)):
            validate_config(cfg, SCHEMA)


@pytest.mark.parametrize("key", ["training", "sharding"])
def test_superseded_seed_must_be_the_first_of_seeds(key):
    cfg = demo()
    cfg["training"]["seeds"] = [7, 8]
    cfg["training"]["seed"] = cfg["sharding"]["seed"] = 7
    validate_config(copy.deepcopy(cfg), SCHEMA)
    cfg[key]["seed"] = 2022
    with pytest.raises(ConfigError, match=rf"config key '{key}.seed': 2022 differs from the first of training.seeds"):
        validate_config(cfg, SCHEMA)
    del cfg[key]["seed"]  # absent: nothing to check
    validate_config(cfg, SCHEMA)


def test_error_says_what_was_expected():
    cfg = demo()
    cfg["split"]["seed"] = "abc"
    with pytest.raises(ConfigError, match=r"\(expected: seed of the split\)"):
        validate_config(cfg, SCHEMA)


def test_builtins_are_valid_registry_entries():
    validate_config({"datasets": ["synthetic"], "registry": copy.deepcopy(BUILTIN)}, SCHEMA)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("datasets: [a\nsplit: {\n")
    with pytest.raises(ConfigError, match=rf"{p}:\d+: invalid YAML"):
        load_yaml(p)


KEYWORDS = {"type", "description", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern",
            "minLength", "items", "enum", "$ref", "properties", "additionalProperties", "required", "minItems",
            "uniqueItems", "propertyNames", "oneOf"}


def test_schema_documents_every_key():
    schema = load_schema(SCHEMA)  # with the sections generated from the config dataclasses

    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            where = ".".join(path + [name])
            assert set(sub) <= KEYWORDS, f"{where}: unexpected schema keywords {set(sub) - KEYWORDS}"
            assert "description" in sub or "$ref" in sub, f"{where} has no description"
            walk(sub, path + [name])

    walk(schema, [])
    for name, sub in schema["$defs"].items():
        walk(sub, [f"$defs.{name}"])


def test_a_jobs_params_hold_only_the_keys_in_effect():
    """WMF's ALS keys cannot change a gradient-trained run, nor lr an ALS one: they are not its params (so adding or
    changing them re-runs nothing), and the model built without them is the same."""
    from recunlearn.config import hyperparameters, submodel_hyperparameters
    from recunlearn.models import model_config

    cfg = validate_config(demo(), SCHEMA)
    cfg["tuning"]["enabled"] = False
    dataset = cfg["datasets"][0]
    adagrad = hyperparameters(cfg, dataset, "WMF")
    assert adagrad["optimizer"] == "adagrad" and "lr" in adagrad
    assert not {"als_reg", "als_cg_steps"} & set(adagrad)
    assert model_config("WMF", adagrad) == model_config("WMF", cfg["hyperparameters"]["WMF"])
    assert "sampling" in hyperparameters(cfg, dataset, "BPR")  # other models keep every key
    cfg["hyperparameters"]["WMF"].update(optimizer="als", als_reg=5.0)
    als = submodel_hyperparameters(cfg, dataset, "WMF")
    assert als["als_reg"] == 5.0 and not {"lr", "batch_size", "reg_weight", "keep_prob"} & set(als)
    # a tuned run keeps them all: a trial may choose the optimizer that makes them count
    cfg["tuning"].update(enabled=True, targets=["retrain"])
    assert {"lr", "als_reg"} <= set(hyperparameters(cfg, dataset, "WMF"))
    assert "lr" not in submodel_hyperparameters(cfg, dataset, "WMF")


# each overlay in config/ and the config(s) it is written over (its first lines say so); the others are whole configs
OVERLAYS = {"demo_beyond.yaml": "demo.yaml", "frontier_ml100k.yaml": "ml100k.yaml", "forgetting_ml100k.yaml": "ml100k.yaml",
            "user_unlearning_ml100k.yaml": "ml100k.yaml", "reproducibility_ml100k.yaml": "ml100k.yaml",
            "wmf_als_ml100k.yaml": "ml100k.yaml", "wmf_als_ml1m.yaml": "ml1m_train.yaml", "wmf_als.yaml": "ml1m_train.yaml",
            "wmf_retrain_only.yaml": "ml1m_train.yaml", "paper_splits_untuned.yaml": "paper_splits.yaml",
            "frontier_only.yaml": "ml1m_train.yaml", "lightgcn_ml1m.yaml": "ml1m_train.yaml",
            "wmf_tuned_ml1m.yaml": ("ml1m_train.yaml", "wmf_als_ml1m.yaml")}


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "config").glob("*.yaml")))
def test_every_shipped_config_and_overlay_is_valid(name):
    """A misspelt key in an overlay would otherwise pass unnoticed until a user ran it."""
    base = OVERLAYS.get(name, ())
    files = ["config.yaml", *([base] if isinstance(base, str) else base), name]
    validate_config(merge_configs(*(load_yaml(ROOT / "config" / f) for f in files)), SCHEMA)


def test_configs_merge_key_by_key():
    base = {"a": {"x": 1, "y": [1]}, "b": 2}
    assert merge_configs(base, {"a": {"y": [2]}}, {"c": {"z": 3}}) == {"a": {"x": 1, "y": [2]}, "b": 2, "c": {"z": 3}}
    assert base == {"a": {"x": 1, "y": [1]}, "b": 2}


def test_an_overlay_run_elsewhere_still_reads_config_yaml(tmp_path):
    """`snakemake -s <repo>/Snakefile -d <elsewhere> --configfile <overlay>` merges the overlay over the repository's
    config/config.yaml, not over the schema's defaults: config/ml1m_train.yaml sets no method_aggregators, so
    RecEraser-fast serves WMF by config.yaml's RefitAgg (MembAgg, the default, if config.yaml were skipped)."""
    data = tmp_path / "data" / "ml-1m-receraser"
    data.mkdir(parents=True)
    (data / "train.txt").write_text("0 1 2\n")  # read only by a job: a dry run plans without it
    plan = run_snakemake(tmp_path, "-n", "--configfile", str(ROOT / "config" / "ml1m_train.yaml"),
                         str(ROOT / "config" / "frontier_only.yaml"), "--config", "models=[WMF]", "--",
                         "results/tables/table_6_4.md").stdout
    assert "WMF/seed2022/inbp_K10/refit/unlearn_sequential/times.csv" in plan
    assert "inbp_K10/memb/unlearn_sequential" not in plan
