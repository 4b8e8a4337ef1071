"""Configuration: JSON-schema validation with defaults, and one-line errors that name the key.

The schema (``workflow/schemas/config.schema.yaml``) is the documentation of every key. Snakemake's own
``validate()`` prints a multi-line jsonschema dump; this module turns the first problem into one line:
``config key 'split.valid': 1.5 is greater than the maximum of 1 (expected: fraction of ...)``.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import best_match

from .datasets import check_dataset, resolve_registry


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range."""


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


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file, naming the file and line on a syntax error."""
    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}") from None


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


_JSON_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}


def dataclass_schema(cls, description: str = "") -> dict:
    """The JSON schema of a config dataclass: one property per field, with the field's default (the one source of
    defaults), its type and the description and constraints of its metadata (``models.hparams.hp``)."""
    props = {}
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata)
        type_name = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        if "enum" not in meta and type_name not in _JSON_TYPES:
            raise ConfigError(f"{cls.__name__}.{f.name}: type {type_name} has no config schema (expected one of "
                              f"{', '.join(_JSON_TYPES)}, or an enum in its metadata)")
        prop = {} if "enum" in meta else {"type": _JSON_TYPES[type_name]}
        props[f.name] = {**prop, **{k: v for k, v in meta.items() if k != "description"}, "default": f.default,
                         "description": meta.get("description", f.name)}
    return {"type": "object", "description": description, "additionalProperties": False, "default": {},
            "properties": props}


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
    props["dataset_hyperparameters"]["additionalProperties"]["properties"] = {name: {"type": "object"}
                                                                              for name in MODELS}
    sharding = props["sharding"]["properties"]
    sharding["submodel_hyperparameters"]["properties"] = {
        name: {"type": "object", "description": f"overrides of hyperparameters.{name} for {name}'s sub-models"}
        for name in MODELS}
    sharding["partitions"]["items"] = {"enum": list(PARTITIONS)}
    sharding["aggregators"]["items"] = {"enum": list(AGGREGATORS)}
    return schema


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Fill in the schema's defaults (in place) and raise ConfigError on the first problem, in one line."""
    schema = load_schema(schema_path)
    _validate(config, schema, schema)
    _check_semantics(config)
    from .tuning import SpaceError, check_tuning

    try:
        check_tuning(config, schema)
    except SpaceError as exc:
        raise ConfigError(f"config key {exc}") from None
    for dataset, per_model in config.get("dataset_hyperparameters", {}).items():
        for model in per_model:
            _validate_merged(hyperparameters(config, dataset, model), model, f"dataset_hyperparameters.{dataset}.{model}",
                             schema)
    for model, overrides in config["sharding"].get("submodel_hyperparameters", {}).items():
        _validate_merged({**config["hyperparameters"].get(model, {}), **overrides}, model,
                         f"sharding.submodel_hyperparameters.{model}", schema)
    return config


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


def hyperparameters(config: dict, dataset: str, model: str) -> dict:
    """The hyper-parameters of ``model`` on ``dataset``: ``hyperparameters.<model>`` with the dataset's overrides."""
    merged = copy.deepcopy(config.get("hyperparameters", {}).get(model, {}))
    merged.update(config.get("dataset_hyperparameters", {}).get(dataset, {}).get(model, {}))
    return merged


def submodel_hyperparameters(config: dict, dataset: str, model: str) -> dict:
    """The hyper-parameters of the K sub-models of ``model``: ``hyperparameters(...)`` with
    ``sharding.submodel_hyperparameters.<model>`` over them. A shard holds about 1/K of the data, so what trains a
    sub-model best (batch size, optimizer) is chosen on validation separately from Retrain (docs/ablation.md)."""
    merged = hyperparameters(config, dataset, model)
    merged.update(config.get("sharding", {}).get("submodel_hyperparameters", {}).get(model, {}))
    return merged


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


if __name__ == "__main__":
    print(hyperparameter_table())
