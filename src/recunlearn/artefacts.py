"""Trained artefacts: ``model.pt`` (a state dict, loadable with ``weights_only=True``) written atomically, and a
JSON sidecar that says what it was trained on (sha256 of the interaction set), with which config, seed, device,
epochs and wall time. The sidecars are the lineage the forgetting audit reads.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import re
from pathlib import Path

import torch

from .data import atomic_write, read_json, write_json


def save_state(state: dict, path: str | Path) -> None:
    with atomic_write(path) as tmp:
        torch.save({k: v.detach().cpu() for k, v in state.items()}, tmp)


def load_state(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def sidecar(**fields) -> dict:
    """The common part of every sidecar plus ``fields``: torch's version, the host, the time, and what the bits of
    a CPU result depend on (``machine``)."""
    return {
        **fields,
        "torch": torch.__version__,
        "host": platform.node(),
        "machine": machine(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


# the environment variables that choose a BLAS or oneDNN code path or its threads
CODE_PATH_VARIABLES = ("MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS",
                       "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS")


def machine() -> dict:
    """What a CPU result's bits depend on beyond config and seed (docs/guide/running.md, "Reproducibility"): the CPU model, torch's
    CPU threads, the vector code path of its own kernels, its BLAS (MKL, whose code path ``MKL_CBWR`` pins), and
    the variables that pin a code path, where set. Two runs that agree on all of these give the same bits."""
    return {"cpu": _cpu_model(), "threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "blas": _torch_blas(),
            "env": {k: os.environ[k] for k in CODE_PATH_VARIABLES if k in os.environ}}


@functools.cache
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def _torch_blas() -> str:
    """torch's BLAS as its build reports it, with MKL's version (``BLAS_INFO=mkl``: Intel(R) oneAPI Math Kernel
    Library Version 2024.2 ...)."""
    config = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    name = blas.group(1) if blas else "unknown"
    return f"{name} {mkl.group(1)}" if name == "mkl" and mkl else name


def write_sidecar(path: str | Path, info: dict) -> None:
    write_json(path, info)


def read_sidecar(path: str | Path) -> dict:
    return read_json(path)


def chosen(path) -> dict:
    """The settings a tuning artefact chose (to merge over the config's), or {} for no path."""
    if not path:
        return {}
    return dict(read_json(path)["chosen"])
