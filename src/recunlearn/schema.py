"""The lowest layer of the configuration, torch-free: its error, YAML reading, and the JSON schema of a config
dataclass (a model's hyper-parameters: ``models.hparams``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range."""


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file, naming the file and line on a syntax error."""
    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}") from None


_JSON_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}


def dataclass_schema(cls, description: str = "", keys=None) -> dict:
    """The JSON schema of a config dataclass: one property per field (or per field named in ``keys``), with the
    field's default (the one source of defaults), its type and the description and constraints of its metadata
    (``models.hparams.hp``)."""
    props = {}
    for f in dataclasses.fields(cls):
        if keys is not None and f.name not in keys:
            continue
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
