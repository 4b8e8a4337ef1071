"""Approximate unlearning (docs/guide/method.md, section 10): methods that start from the trained model instead of
retraining any part of it, one file each, registered in ``registry.py`` (``register_approximate``).

A method is ``f(model, full, deleted, valid, seed, device, **options) -> (model, info)``: ``model`` the trained model
over ``full`` (the training set it was trained on), ``deleted`` a boolean mask of ``full``'s rows to forget; it
returns the served model, built over ``full`` minus them, and what it did (seconds, iterations). The served model
keeps parameters that saw the deleted interactions: its sidecar says ``exact: false`` and what it was initialised
from, and the audit's lineage verdict (``audit.model_verdict``) marks it not exact.
"""

from __future__ import annotations

import torch

from ..registry import APPROXIMATE, lookup, resolve
from ..train import deterministic_algorithms


def options_for(name: str, given: dict | None) -> dict:
    """The method's settings: its registered defaults updated by ``given`` (the config's ``approximate.<name>``);
    an unknown key raises a one-line error naming it."""
    entry = lookup(APPROXIMATE, "approximate method", name)
    given = dict(given or {})
    unknown = sorted(set(given) - set(entry.options))
    if unknown:
        raise ValueError(f"approximate.{name}: unknown key '{unknown[0]}' (expected: {', '.join(entry.options)})")
    return {key: given.get(key, spec["default"]) for key, spec in entry.options.items()}


def unlearn(name: str, model, full, deleted, valid, seed: int, device, options: dict | None = None):
    """Run the approximate method ``name`` (the module docstring's contract) with its settings (``options_for``)."""
    entry = lookup(APPROXIMATE, "approximate method", name)
    # as a training job does: on the CPU the backward's scatter-adds run in a fixed order, so one machine at one
    # thread count gives the same bits run after run (without it, IFRU's solve differed between runs at 2 threads)
    deterministic_algorithms(torch.device(device).type == "cpu")
    return resolve(entry.impl)(model, full, deleted, valid, seed, device, **options_for(name, options))


def label(name: str) -> str:
    """The method's name in the tables (fine-tune, SCIF, IFRU)."""
    return lookup(APPROXIMATE, "approximate method", name).label


__all__ = ["APPROXIMATE", "label", "options_for", "unlearn"]
