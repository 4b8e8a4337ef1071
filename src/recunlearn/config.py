"""Configuration: JSON-schema validation with defaults, and one-line errors that name the key.

The schema (``workflow/schemas/config.schema.yaml``) is the documentation of every key. Snakemake's own
``validate()`` prints a multi-line jsonschema dump; this module turns the first problem into one line:
``config key 'split.valid': 1.5 is greater than the maximum of 1 (expected: fraction of ...)``.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import best_match

from .datasets import check_dataset, resolve_registry
from .experiments import check_method_aggregators
from .schema import ConfigError, dataclass_schema, load_yaml
from .search_space import SpaceError, check_own, complete, space_fields_checked, tuning_plan


def _with_defaults(validator_class):
    """A validator class that writes each property's ``default`` into the instance before validating it."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


_DefaultingValidator = _with_defaults(Draft202012Validator)


def _subschema(schema: dict, root: dict, path: list) -> dict:
    """The schema that governs ``path`` (best effort: follows properties, items, additionalProperties, $ref)."""
    node = schema
    for key in path:
        while "$ref" in node:
            node = _resolve(root, node["$ref"])
        if isinstance(key, int):
            node = node.get("items", {})
        elif key in node.get("properties", {}):
            node = node["properties"][key]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return {}
    while "$ref" in node:
        node = _resolve(root, node["$ref"])
    return node


def _resolve(root: dict, ref: str) -> dict:
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _dotted(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _format_error(err, root: dict) -> str:
    path = list(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        unknown = sorted(set(err.instance) - set(allowed))
        where = _dotted(path + [unknown[0]]) if unknown else _dotted(path)
        return f"config key '{where}': unknown key (allowed here: {', '.join(allowed)})"
    if err.validator == "required":
        return f"config key '{_dotted(path)}': {err.message}"
    sub = _subschema(root, root, path)
    expected = sub.get("description")
    msg = f"config key '{_dotted(path)}': {err.message}"
    if expected:
        msg += f" (expected: {' '.join(str(expected).split())})"
    return msg


def wildcard_constraints() -> dict[str, str]:
    """The regexes of the ``model``, ``partition`` and ``aggregator`` wildcards (workflow/rules/common.smk): the
    registered names."""
    from .models import MODELS  # registers the models (torch-free)
    from .registry import AGGREGATORS, PARTITIONS

    return {kind: "|".join(re.escape(n) for n in registry)
            for kind, registry in (("model", MODELS), ("partition", PARTITIONS), ("aggregator", AGGREGATORS))}


def hyperparameter_table() -> str:
    """The Markdown table of every registered model's hyper-parameters and defaults (config/README.md holds it
    between ``<!-- hyperparameters -->`` markers; regenerate with ``python -m recunlearn.config``)."""
    from .models import MODELS

    names = list(MODELS)
    specs = {name: {f.name: f for f in dataclasses.fields(MODELS[name].config)} for name in names}
    keys = list(dict.fromkeys(k for name in names for k in specs[name]))
    lines = ["| key | " + " | ".join(names) + " | meaning |", "|---|" + "---|" * len(names) + "---|"]
    for key in keys:
        defaults = [f"{specs[n][key].default}" if key in specs[n] else "-" for n in names]
        meta = next(specs[n][key].metadata for n in names if key in specs[n])
        choices = f" ({' / '.join(meta['enum'])})" if "enum" in meta else ""
        lines.append(f"| `{key}` | " + " | ".join(defaults) + f" | {meta.get('description', key)}{choices} |")
    return "\n".join(lines)


def aggregation_schema() -> dict:
    """The config's ``aggregation`` section, generated from ``AggregatorConfig`` (the keys it declares)."""
    from .models.hparams.aggregation import AGGREGATION_DESCRIPTION, AGGREGATION_KEYS, AggregatorConfig

    return dataclass_schema(AggregatorConfig, AGGREGATION_DESCRIPTION, keys=AGGREGATION_KEYS)


def load_schema(schema_path: str | Path) -> dict:
    """The config schema: ``schema_path`` with what the registries hold filled in (``registry.py``): the model,
    partition and aggregator enums and each model's ``hyperparameters`` section, generated from its config
    dataclass."""
    from .models import MODELS  # registers the model files (torch-free)
    from .registry import AGGREGATORS, PARTITIONS

    schema = load_yaml(schema_path)
    props = schema["properties"]
    props["models"]["items"] = {"enum": list(MODELS)}
    props["hyperparameters"]["properties"] = {name: dataclass_schema(e.config, e.description)
                                              for name, e in MODELS.items()}
    props["aggregation"] = aggregation_schema()
    props["dataset_hyperparameters"]["additionalProperties"]["properties"] = {name: {"type": "object"}
                                                                              for name in MODELS}
    sharding = props["sharding"]["properties"]
    sharding["submodel_hyperparameters"]["properties"] = {
        name: {"type": "object", "description": f"overrides of hyperparameters.{name} for {name}'s sub-models"}
        for name in MODELS}
    sharding["partitions"]["items"] = {"enum": list(PARTITIONS)}
    sharding["aggregators"]["items"] = {"enum": list(AGGREGATORS)}
    props["approximate"]["properties"] = approximate_schema()
    return schema


def approximate_schema() -> dict:
    """The ``approximate`` section's keys: ``methods`` (the registered approximate methods to run) and each one's
    settings, generated from its registration (``register_approximate``)."""
    from .registry import APPROXIMATE

    out = {"methods": {"type": "array", "items": {"enum": list(APPROXIMATE)}, "uniqueItems": True,
                       "default": ["finetune"], "description": "the approximate methods to run (fine-tune is the "
                       "forgetting check's shortcut it must catch)"}}
    for name, entry in APPROXIMATE.items():
        keys = {key: {"type": "integer" if isinstance(spec["default"], int) else "number", **spec}
                for key, spec in entry.options.items()}
        out[name] = {"type": "object", "additionalProperties": False, "default": {}, "properties": keys,
                     "description": f"{entry.label}: {entry.description}"}
    return out


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Fill in the schema's defaults (in place) and raise ConfigError on the first problem, in one line."""
    schema = load_schema(schema_path)
    _validate(config, schema, schema)
    _check_semantics(config)
    try:
        check_tuning(config)
        check_method_aggregators(config["method_aggregators"], _registered("models"), _registered("aggregators"))
    except SpaceError as exc:
        raise ConfigError(f"config key {exc}") from None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for dataset, per_model in config.get("dataset_hyperparameters", {}).items():
        for model in per_model:
            _validate_merged(hyperparameters(config, dataset, model), model, f"dataset_hyperparameters.{dataset}.{model}",
                             schema)
    for model, overrides in config["sharding"].get("submodel_hyperparameters", {}).items():
        _validate_merged({**config["hyperparameters"].get(model, {}), **overrides}, model,
                         f"sharding.submodel_hyperparameters.{model}", schema)
    return config


def _registered(kind: str) -> list[str]:
    from .models import MODELS
    from .registry import AGGREGATORS

    return list(MODELS if kind == "models" else AGGREGATORS)


def _validate_merged(merged: dict, model: str, where: str, schema: dict) -> None:
    """Validate overrides merged over ``hyperparameters.<model>`` against that model's schema; errors name ``where``."""
    sub = schema["properties"]["hyperparameters"]["properties"][model]
    try:
        _validate(merged, {**sub, "$defs": schema.get("$defs", {})}, schema)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("config key '", f"config key '{where}.", 1)) from None


def _validate(instance, schema: dict, root: dict) -> None:
    errors = list(_DefaultingValidator(schema).iter_errors(instance))
    if errors:
        raise ConfigError(_format_error(best_match(errors), root if schema is root else schema))


def merge_configs(*configs: dict) -> dict:
    """The configs merged in order as Snakemake merges ``--configfile`` files over the Snakefile's: key by key, a
    mapping merged into the mapping it replaces (validate the result with ``validate_config``)."""
    def merge(into: dict, over: dict) -> dict:
        for key, value in over.items():
            into[key] = merge(dict(into.get(key) or {}), value) if isinstance(value, dict) else copy.deepcopy(value)
        return into

    out: dict = {}
    for cfg in configs:
        merge(out, cfg)
    return out


def hyperparameters(config: dict, dataset: str, model: str) -> dict:
    """The hyper-parameters of ``model`` on ``dataset``: ``hyperparameters.<model>`` with the dataset's overrides,
    without the keys the others leave unused (``ModelConfig.in_effect``) unless the validation tuner searches them
    (a trial may choose what makes them count)."""
    return _in_effect(config, "retrain", model, _with_dataset(config, dataset, model))


def _with_dataset(config: dict, dataset: str, model: str) -> dict:
    merged = copy.deepcopy(config.get("hyperparameters", {}).get(model, {}))
    merged.update(config.get("dataset_hyperparameters", {}).get(dataset, {}).get(model, {}))
    return merged


def _in_effect(config: dict, target: str, model: str, values: dict) -> dict:
    from .models import MODELS  # registers the models (torch-free)

    if model not in MODELS or tuning_plan(config, target, model):
        return values
    return MODELS[model].config.in_effect(values)


def submodel_hyperparameters(config: dict, dataset: str, model: str) -> dict:
    """The hyper-parameters of the K sub-models of ``model``: ``hyperparameters(...)`` with
    ``sharding.submodel_hyperparameters.<model>`` over them. A shard holds about 1/K of the data, so what trains a
    sub-model best (batch size, optimizer) is chosen on validation separately from Retrain (docs/report/ablation.md)."""
    merged = _with_dataset(config, dataset, model)
    merged.update(config.get("sharding", {}).get("submodel_hyperparameters", {}).get(model, {}))
    return _in_effect(config, "submodel", model, merged)


# the fewest deletions a served model must have made to be judged by the forgetting check (its AUC's interval over
# fewer members is too wide to say anything): the check's own members, and Table 6.4's requests when they are judged
MIN_MEMBERS = 20


def _check_semantics(config: dict) -> None:
    """Checks a JSON schema cannot express."""
    split = config["split"]
    total = split["train"] + split["valid"] + split["test"]
    if abs(total - 1.0) > 1e-9:
        raise ConfigError(
            f"config key 'split': train + valid + test must sum to 1, got "
            f"{split['train']} + {split['valid']} + {split['test']} = {total:g}"
        )
    for key in ("valid", "test"):
        if split[key] == 0:
            raise ConfigError(
                f"config key 'split.{key}': 0 leaves the {key} split empty (expected a fraction > 0: early stopping "
                f"and the reported metrics need it)"
            )
    unlearning = config["unlearning"]
    for key in ("n_timed", "n_retrain_timed"):
        if unlearning[key] > unlearning["n_requests"]:
            raise ConfigError(
                f"config key 'unlearning.{key}': {unlearning[key]} exceeds unlearning.n_requests = "
                f"{unlearning['n_requests']} (the timed requests are the first of the R drawn; expected at most R)"
            )
    for key, value, what in (("user_unlearning.users", config.get("user_unlearning", {}).get("users"), "users"),
                             ("forgetting.members", config.get("forgetting", {}).get("members"),
                              "training interactions")):
        if value is not None and not (0 < value < 1 or (value >= 1 and float(value).is_integer())):
            raise ConfigError(f"config key '{key}': {value} (expected a share in (0, 1) or a whole count of at least "
                              f"1 {what})")
    members = config.get("forgetting", {}).get("members")
    if config.get("forgetting", {}).get("enabled") and members is not None and members >= 1:
        if members < MIN_MEMBERS:
            raise ConfigError(f"config key 'forgetting.members': {members:g} members, fewer than the {MIN_MEMBERS} the "
                              f"forgetting check needs for its AUC intervals to say anything (expected a count of at "
                              f"least {MIN_MEMBERS}, or a fraction of the training interactions)")
    seeds = config["training"]["seeds"]
    for key in ("training.seed", "sharding.seed"):
        block, name = key.split(".")
        old = config[block].get(name)
        if old is not None and old != seeds[0]:
            raise ConfigError(
                f"config key '{key}': {old} differs from the first of training.seeds {seeds} (training.seeds "
                f"supersedes it: every seeded job takes its seed from there; set it to {seeds[0]})"
            )
    registry = resolve_registry(config.get("registry", {}))
    for name, spec in registry.items():
        try:  # a dataset that runs is checked under the config's split (split.mode overrides its split_mode)
            check_dataset(name, spec, split if name in config["datasets"] else None)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    for name in config.get("dataset_hyperparameters", {}):
        if name not in registry:
            raise ConfigError(
                f"config key 'dataset_hyperparameters.{name}': no dataset '{name}' in the registry "
                f"(expected one of: {', '.join(sorted(registry))})"
            )
    for name in config["datasets"]:
        if name not in registry:
            raise ConfigError(
                f"config key 'datasets': unknown dataset '{name}' "
                f"(expected one of: {', '.join(sorted(registry))}, or an entry under 'registry')"
            )


def check_tuning(config: dict) -> None:
    """Every search space the config would run, checked (``validate_config``; the spaces themselves:
    ``search_space``): SpaceError on the first bad entry. Overrides of a model or aggregator that is not registered
    are refused too."""
    from .models import MODELS
    from .registry import AGGREGATORS, PARTITIONS

    objective = config.get("tuning", {}).get("submodel_objective", "submodels")
    for name in objective if isinstance(objective, dict) else ():
        if name not in PARTITIONS:
            raise SpaceError(f"'tuning.submodel_objective.{name}': unknown partition (expected one of: "
                             f"{', '.join(PARTITIONS)})")
        for model in objective[name] if isinstance(objective[name], dict) else ():
            if model not in MODELS:
                raise SpaceError(f"'tuning.submodel_objective.{name}.{model}': unknown model (expected one of: "
                                 f"{', '.join(MODELS)})")
    spaces = config.get("tuning", {}).get("search_space", {})
    for target, per_name in spaces.items():
        known = AGGREGATORS if target == "aggregator" else MODELS
        for name in per_name:
            if name not in known:
                raise SpaceError(f"'tuning.search_space.{target}.{name}': unknown "
                                 f"{'aggregator' if target == 'aggregator' else 'model'} (expected one of: "
                                 f"{', '.join(known)})")
            if target == "aggregator" and not AGGREGATORS[name].trained:
                raise SpaceError(f"'tuning.search_space.aggregator.{name}': {AGGREGATORS[name].paper_name} trains "
                                 f"nothing, so it has nothing to tune (expected one of the trained aggregators: "
                                 f"{', '.join(a for a, e in AGGREGATORS.items() if e.trained)})")
    for model in MODELS:
        for target in ("retrain", "submodel"):
            space = space_fields_checked(config, target, model)
            if not config.get("tuning", {}).get("enabled") or model not in config.get("models", MODELS):
                continue
            settings = hyperparameters if target == "retrain" else submodel_hyperparameters
            for dataset in config.get("datasets", []):
                own = complete(model, settings(config, dataset, model))
                for key, spec in space.items():  # the first trial is the config's own: it must lie in the space
                    check_own(spec, own[key], f"tuning.search_space.{target}.{model}.{key}",
                               f"the config's own {key} ({own[key]!r} on {dataset})")
    for aggregator, entry in AGGREGATORS.items():
        if entry.trained:
            space = space_fields_checked(config, "aggregator", next(iter(MODELS)), aggregator)
            if not config.get("tuning", {}).get("enabled"):
                continue
            own = config.get("aggregation", {})
            for key, spec in space.items():  # the first trial is the config's own aggregation settings
                if key in own:
                    check_own(spec, own[key], f"tuning.search_space.aggregator.{aggregator}.{key}",
                               f"the config's own {key} (aggregation.{key}: {own[key]!r})")


if __name__ == "__main__":
    print(hyperparameter_table())
