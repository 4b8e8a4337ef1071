"""The dataset registry: built-in datasets of the paper (docs/guide/method.md, section 2) merged with the user's ``registry``.

A dataset is a ``format`` plus ``sources`` (files to fetch into ``resources/<name>/``), or ``format: synthetic``
with the generator's parameters. Readers for each format live in :mod:`recunlearn.readers`.

``split_mode`` is a dataset's own split protocol (docs/report/protocol.md): ``random`` (the default: all files merged,
each user's interactions split train/valid/test at random) or ``given`` (two sources, the train file then the test
file: the test file is the test set, validation is carved from the train file). ``split.mode`` in the config, when
set, overrides it for every dataset. ``paper_dataset`` names the paper's dataset an entry stands for in Tables 6.2
and 6.3 (default: its own name).
"""

from __future__ import annotations

import copy
import os
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlparse

GROUPLENS = "https://files.grouplens.org/datasets/movielens"
LIGHTGCN_YELP = "https://raw.githubusercontent.com/gusye1234/LightGCN-PyTorch/master/data/yelp2018"
RECERASER = "https://raw.githubusercontent.com/chenchongthu/Recommendation-Unlearning/master/data"

BUILTIN: dict[str, dict] = {
    "ml-100k": {
        "format": "movielens_tab",
        "description": "MovieLens 100K (GroupLens), u.data",
        "sources": [
            {
                "url": f"{GROUPLENS}/ml-100k.zip",
                "md5": "0e33842e24a9c977be4e0107933c0723",
                "sha256": "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
                "member": "ml-100k/u.data",
            }
        ],
    },
    "ml-1m": {
        "format": "movielens_dat",
        "description": "MovieLens 1M (GroupLens), ratings.dat",
        "sources": [
            {
                "url": f"{GROUPLENS}/ml-1m.zip",
                "md5": "c4d9eecfca2ab87c1945afe126590906",
                "sha256": "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
                "member": "ml-1m/ratings.dat",
            }
        ],
    },
    "ml-10m": {
        "format": "movielens_dat",
        "description": "MovieLens 10M (GroupLens), ml-10M100K/ratings.dat",
        "sources": [
            {
                "url": f"{GROUPLENS}/ml-10m.zip",
                "md5": "ce571fd55effeba0271552578f2648bd",
                "sha256": "813c411ccb6122564edfe752e7f80c4dcc5aa25fa94c93622f6877a7ba252862",
                "member": "ml-10M100K/ratings.dat",
            }
        ],
    },
    "yelp2018": {
        "format": "lightgcn",
        "description": "Yelp2018 as preprocessed by the LightGCN authors (train.txt + test.txt merged and re-split; "
                       "split.mode: given keeps their split)",
        # No published checksum: the sha256 is recorded on first download and verified afterwards.
        "sources": [{"url": f"{LIGHTGCN_YELP}/train.txt"}, {"url": f"{LIGHTGCN_YELP}/test.txt"}],
    },
    "ml-1m-receraser": {
        "format": "lightgcn",
        "description": "MovieLens 1M as released with RecEraser (the authors' train.txt / test.txt, 78/22)",
        "split_mode": "given",  # the paper's own protocol: its test file is the test set
        "paper_dataset": "ml-1m",
        "sources": [
            {   # 720,152 interactions, 6,040 lines
                "url": f"{RECERASER}/ml-1m/train.txt",
                "sha256": "c74ca36cdff687523a151f25ae24a8e93f52906d599e446625a393fdb06443d7",
            },
            {   # 200,041 interactions
                "url": f"{RECERASER}/ml-1m/test.txt",
                "sha256": "0ea4825f0016fffc2b44329ef3617efbf6a3c3ba6e145c48b7a8b46b7313d5c5",
            },
        ],
    },
    "synthetic": {
        "format": "synthetic",
        "description": "embedded synthetic data: a latent-factor model shaped like MovieLens-100K (docs/guide/synthetic.md)",
        "sources": [],
        "synthetic": {},
    },
}


def resolve_registry(user_registry: dict | None = None) -> dict[str, dict]:
    """Built-ins, with the user's entries added (a user entry of a built-in's name replaces it whole)."""
    registry = copy.deepcopy(BUILTIN)
    registry.update(copy.deepcopy(user_registry or {}))
    for spec in registry.values():
        spec.setdefault("sources", [])
        if spec["format"] == "csv":
            spec.setdefault("csv", {})
        if spec["format"] == "synthetic":
            spec.setdefault("synthetic", {})
    return registry


def source_filename(source: dict) -> str:
    """The file name a source is stored under in ``resources/<dataset>/``."""
    if source.get("filename"):
        return source["filename"]
    url = source["url"]
    parsed = urlparse(url)
    path = unquote(parsed.path) if parsed.scheme in ("http", "https", "file") else url
    name = posixpath.basename(path.replace("\\", "/").rstrip("/"))
    if not name or name in (".", ".."):
        raise ValueError(f"source {url!r}: cannot derive a file name (its last element is {name!r}); set 'filename'")
    return name


def local_path(url: str) -> str | None:
    """The file a ``file://`` URL or a plain path names (relative to the working directory), None for http(s)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    if parsed.scheme == "":
        return url
    return None


# Where the workflow writes: a source there could be deleted or overwritten as an output (--forceall, a failed
# download), so a dataset's own files must live elsewhere (data/, say) and are copied into resources/.
GENERATED_DIRS = ("resources", "results")


def check_source_location(name: str, index: int, source: dict, workdir: str | Path | None = None) -> None:
    """Refuse a local source inside ``resources/`` or ``results/`` of the working directory (symlinks resolved)."""
    path = local_path(source["url"])
    if path is None:
        return
    root = Path(workdir or os.getcwd()).resolve()
    target = (root / path).resolve()  # an absolute path stays itself
    for folder in GENERATED_DIRS:
        if target.is_relative_to(root / folder):
            raise ValueError(
                f"config key 'registry.{name}.sources.{index}.url': {source['url']!r} is inside {folder}/, which the "
                f"workflow writes and may delete (--forceall, a failed download); keep your file elsewhere (e.g. "
                f"data/) and point url there: it is copied into resources/{name}/"
            )


def split_mode(spec: dict, split: dict | None = None) -> str:
    """The split protocol of a dataset: ``split.mode`` of the config when set, else the entry's ``split_mode``,
    else ``random``."""
    return (split or {}).get("mode") or spec.get("split_mode") or "random"


def check_dataset(name: str, spec: dict, split: dict | None = None) -> None:
    """Semantic checks of one registry entry (under the config's ``split`` block when it runs); raises ValueError
    naming the key."""
    fmt = spec["format"]
    sources = spec.get("sources", [])
    if split_mode(spec, split) == "given":
        key = "split.mode" if (split or {}).get("mode") else f"registry.{name}.split_mode"
        n = 0 if fmt == "synthetic" else len(sources)
        if n != 2:
            raise ValueError(
                f"config key '{key}': 'given' needs dataset '{name}' to have two sources (the train file, then the "
                f"test file); it has {n} (expected: two sources, or split mode 'random')"
            )
    if fmt == "synthetic":
        if sources:
            raise ValueError(f"config key 'registry.{name}.sources': a synthetic dataset takes no sources")
        from .synthetic import SyntheticConfig  # its defaults; imported here, as it loads numpy and pandas

        syn = {**vars(SyntheticConfig()), **spec.get("synthetic", {})}
        if syn["min_interactions"] > syn["max_interactions"]:
            raise ValueError(
                f"config key 'registry.{name}.synthetic': min_interactions must not exceed max_interactions"
            )
        return
    if not sources:
        raise ValueError(f"config key 'registry.{name}.sources': format '{fmt}' needs at least one source")
    names = []
    for index, source in enumerate(sources):
        check_source_location(name, index, source)
        try:
            names.append(source_filename(source))
        except ValueError as exc:
            raise ValueError(f"config key 'registry.{name}.sources.{index}.url': {exc}") from None
    if len(set(names)) != len(names):
        raise ValueError(f"config key 'registry.{name}.sources': two sources share a file name {names}; set 'filename'")
    if fmt in ("movielens_dat", "movielens_tab", "csv") and len(sources) != 1 and split_mode(spec, split) != "given":
        raise ValueError(f"config key 'registry.{name}.sources': format '{fmt}' reads exactly one source")
