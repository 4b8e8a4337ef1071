"""Search spaces of the validation tuner, torch-free (docs/guide/tuning.md): what a target may search, checked against
the keys' JSON schema (``check_space``), and what one tuning job runs (``tuning_plan``). The config check
(``config.check_tuning``) and the workflow's planning read them; the search itself is ``tuning``.
"""

from __future__ import annotations

import copy
import math

from .schema import dataclass_schema

TARGETS = ("retrain", "submodel", "aggregator")


class SpaceError(ValueError):
    """A search space entry the tuner cannot use (the config check turns it into a one-line config error)."""


# ---------------------------------------------------------------------------- search spaces (torch-free)
def check_space(space: dict, fields: dict, where: str) -> dict:
    """Validate ``space`` ({key: {low, high[, log]} | {choices} | None}) against ``fields`` ({key: the key's JSON
    schema}); return it without the removed (``None``) keys. A problem raises SpaceError naming ``where.key``."""
    from jsonschema import Draft202012Validator

    if not isinstance(space, dict):
        raise SpaceError(f"'{where}': expected a mapping of hyper-parameter to range or choices, got {space!r}")
    out = {}
    for key, spec in space.items():
        at = f"{where}.{key}"
        if key not in fields:
            raise SpaceError(f"'{at}': not a tunable key here (expected one of: {', '.join(sorted(fields))})")
        if spec is None:
            continue
        ok = Draft202012Validator({k: v for k, v in fields[key].items() if k not in ("default", "description")})
        if not isinstance(spec, dict) or not spec:
            raise SpaceError(f"'{at}': expected {{low, high, log}} or {{choices: [...]}}, got {spec!r}")
        if "choices" in spec:
            extra = sorted(set(spec) - {"choices"})
            choices = spec["choices"]
            if extra:
                raise SpaceError(f"'{at}': choices take no other key, got {extra[0]!r}")
            if not isinstance(choices, list) or not choices:
                raise SpaceError(f"'{at}.choices': expected a non-empty list, got {choices!r}")
            for value in choices:
                if not ok.is_valid(value):
                    raise SpaceError(f"'{at}.choices': {value!r} is not a valid value of {key}")
            out[key] = {"choices": list(choices)}
            continue
        extra = sorted(set(spec) - {"low", "high", "log"})
        if extra:
            raise SpaceError(f"'{at}': unknown key {extra[0]!r} (expected low, high, log, or choices)")
        if "low" not in spec or "high" not in spec:
            raise SpaceError(f"'{at}': a range needs both low and high, got {spec!r}")
        low, high, use_log = spec["low"], spec["high"], spec.get("log", False)
        kind = fields[key].get("type")
        if kind not in ("number", "integer"):
            raise SpaceError(f"'{at}': {key} is not numeric, so it takes choices, not a range")
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SpaceError(f"'{at}.{name}': expected a number, got {value!r}")
            if kind == "integer" and not float(value).is_integer():
                raise SpaceError(f"'{at}.{name}': {key} is an integer, got {value!r}")
            if not ok.is_valid(int(value) if kind == "integer" else value):
                raise SpaceError(f"'{at}.{name}': {value!r} is not a valid value of {key}")
        if not low < high:
            raise SpaceError(f"'{at}': low {low!r} must be below high {high!r}")
        if not isinstance(use_log, bool):
            raise SpaceError(f"'{at}.log': expected true or false, got {use_log!r}")
        if use_log and low <= 0:
            raise SpaceError(f"'{at}': a log range needs low > 0, got {low!r}")
        out[key] = {"low": low, "high": high, "log": use_log, "int": kind == "integer"}
    return out


def declared_space(target: str, model: str, aggregator: str | None = None) -> dict:
    """What the model (or, for ``aggregator``, the aggregator) declares it searches."""
    from .models import MODELS
    from .registry import AGGREGATORS, lookup

    if target == "aggregator":
        return copy.deepcopy(lookup(AGGREGATORS, "aggregator", aggregator).search_space)
    return copy.deepcopy(getattr(lookup(MODELS, "model", model).config, "search_space", {}))


def space_for(config: dict, target: str, model: str, aggregator: str | None = None) -> dict:
    """The declared space with ``tuning.search_space.<target>.<model or aggregator>`` over it, key by key."""
    override = config.get("tuning", {}).get("search_space", {}).get(target, {})
    name = aggregator if target == "aggregator" else model
    return {**declared_space(target, model, aggregator), **override.get(name, {})}


def tuning_plan(config: dict, target: str, model: str, aggregator: str | None = None) -> dict:
    """What one tuning job runs (the rules' ``params.tuning``): the checked space and the budget; ``{}`` when the
    config does not tune ``target``."""
    tuning = config.get("tuning", {})
    if not tuning.get("enabled") or target not in tuning.get("targets", TARGETS):
        return {}
    if target == "aggregator":
        from .registry import AGGREGATORS

        if not AGGREGATORS[aggregator].trained:
            return {}
    # what the job's output depends on and nothing else (its params): the sub-models' tuning alone reads the shards
    # it trains on, at most the K the partition has
    submodel = {"shards": min(int(tuning["shards"]), int(config["sharding"]["n_shards"])),
                "objective": tuning.get("submodel_objective", "submodels")} if target == "submodel" else {}
    return {"target": target, "space": space_fields_checked(config, target, model, aggregator),
            "trials": per_target(tuning["trials"], target, 20), "max_epochs": per_target(tuning["max_epochs"], target, 50),
            "seed": config["training"]["seeds"][0], **submodel}


def per_target(value, target: str, default: int) -> int:
    """A budget given as one number or as {target: number} (``tuning.trials``, ``tuning.max_epochs``)."""
    return int(value.get(target, default)) if isinstance(value, dict) else int(value)


def tunable_fields(target: str, model: str) -> dict:
    """{key: JSON schema} of what ``target`` may search: the model's hyper-parameters, or the aggregation keys."""
    from .models import MODELS
    from .models.hparams.aggregation import AGGREGATION_KEYS, AggregatorConfig

    if target == "aggregator":
        return dataclass_schema(AggregatorConfig, keys=AGGREGATION_KEYS)["properties"]
    return dataclass_schema(MODELS[model].config)["properties"]


def space_fields_checked(config: dict, target: str, model: str, aggregator: str | None = None) -> dict:
    name = aggregator if target == "aggregator" else model
    return check_space(space_for(config, target, model, aggregator), tunable_fields(target, model),
                       f"tuning.search_space.{target}.{name}")


def check_own(spec: dict, value, where: str, what: str) -> None:
    """The config's own value, which the first trial tries, lies in the searched space (among its choices, or in
    its range): Optuna would otherwise only warn and run that trial outside the declared space."""
    if "choices" in spec:
        if value not in spec["choices"]:
            raise SpaceError(f"'{where}': {what}, which the first trial tries, is not among the choices "
                             f"{spec['choices']}")
    elif not spec["low"] <= value <= spec["high"]:
        raise SpaceError(f"'{where}': {what}, which the first trial tries, is outside the range [{spec['low']!r}, "
                         f"{spec['high']!r}] (expected a range that holds it)")


def complete(model_name: str, hyper: dict) -> dict:
    """Every hyper-parameter of ``model_name``: ``hyper`` over the model's defaults (a trial's starting point)."""
    from dataclasses import asdict

    from .models import model_config

    return asdict(model_config(model_name, hyper))
