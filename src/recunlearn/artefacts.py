"""Trained artefacts: ``model.pt`` (a state dict, loadable with ``weights_only=True``) written atomically, and a
JSON sidecar that says what it was trained on (sha256 of the interaction set), with which config, seed, device,
epochs and wall time. The sidecars are the lineage the forgetting audit reads.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from pathlib import Path

import torch

from .data import atomic_write, write_json


def save_state(state: dict, path: str | Path) -> None:
    with atomic_write(path) as tmp:
        torch.save({k: v.detach().cpu() for k, v in state.items()}, tmp)


def load_state(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def sidecar(**fields) -> dict:
    """The common part of every sidecar plus ``fields``."""
    return {
        **fields,
        "torch": torch.__version__,
        "host": platform.node(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def write_sidecar(path: str | Path, info: dict) -> None:
    write_json(path, info)


def read_sidecar(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
