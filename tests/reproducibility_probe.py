"""Run by tests/test_reproducibility.py in a subprocess, under a chosen thread count and MKL code path: trains every
base model, every partition, every aggregator, a tuning study and an unlearning step on small synthetic data, twice
in this one process, and prints one JSON object:

- ``same_bits``: per artefact, whether the two runs gave the same bits (the contract's first clause);
- ``recall``: per artefact, validation Recall@20 of the first run (compared across processes within a tolerance);
- ``digest``: per artefact, the sha256 of its bits (compared across processes only to report, never asserted);
- ``machine``: what the bits depend on (``artefacts.machine``).

Usage: python tests/reproducibility_probe.py THREADS
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import torch

from recunlearn.artefacts import machine
from recunlearn.data import Interactions, split_per_user
from recunlearn.metrics import embedding_scorer, evaluate
from recunlearn.models import model_config
from recunlearn.partition import partition
from recunlearn.registry import AGGREGATORS, PARTITIONS
from recunlearn.sharded import shard_interactions, train_aggregator, train_submodel
from recunlearn.synthetic import SyntheticConfig, generate
from recunlearn.train import fit
from recunlearn.tuning import retrain_objective, search
from recunlearn.requests import without

K, SEED = 3, 11
MODELS = ("BPR", "WMF", "LightGCN")


def digest(*tensors) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(np.ascontiguousarray(t.detach().cpu().numpy() if torch.is_tensor(t) else t).tobytes())
    return h.hexdigest()


def recall20(p, q, train, valid) -> float:
    with torch.no_grad():
        return evaluate(embedding_scorer(p, q), valid, [train], [20])[("Recall", 20)]


def data():
    out = generate(SyntheticConfig(n_users=600, n_items=500, n_communities=8, mean_interactions=40,
                                   min_interactions=15, max_interactions=150, seed=3))
    x = Interactions(out["user"], out["item"], 600, 500)
    label = split_per_user(x.user, 600, (0.8, 0.1, 0.1), seed=1)
    return [Interactions(x.user[label == s], x.item[label == s], 600, 500) for s in (0, 1)]


def probe(train, valid) -> dict:
    """{artefact: (digest, validation Recall@20 or None)} of one pass over everything the contract names."""
    out = {}
    quick = {"max_epochs": 3, "patience": 3, "dim": 16}
    for name in MODELS:
        res = fit(name, model_config(name, quick), train, valid, SEED, "cpu")
        p, q = res.model.embeddings()
        out[f"model {name}"] = (digest(p, q), recall20(p, q, train, valid))
        if name == "WMF":
            user_emb, item_emb = p.detach().numpy(), q.detach().numpy()
    for name in PARTITIONS:
        shard, _ = partition(name, train, K, SEED, user_emb=user_emb, item_emb=item_emb, rounds=5, bekm_rounds=5)
        out[f"partition {name}"] = (digest(np.asarray(shard)), None)
    shard, _ = partition("random", train, K, SEED)
    subs = []
    for i in range(K):
        _, res = train_submodel("BPR", quick, shard_interactions(train, None, i, assign=shard), valid, SEED, "cpu", "s")
        subs.append(res.model.embeddings())
    sub_p, sub_q = torch.stack([p.detach() for p, _ in subs]), torch.stack([q.detach() for _, q in subs])
    agg_params = {"max_epochs": 3, "patience": 3, "triples": 2000, "batch_size": 1024}
    for name in AGGREGATORS:
        _, agg, _ = train_aggregator(name, "BPR", quick, agg_params, sub_p, sub_q, train, valid, SEED, "cpu", name,
                                     shard=shard)
        p, q = agg.embeddings()
        out[f"aggregator {name}"] = (digest(*agg.state_dict().values(), p, q), recall20(p, q, train, valid))
    # the tuner: a seeded two-trial study over BPR's learning rate
    study = search(retrain_objective("BPR", quick, {"max_epochs": 2}, train, valid, SEED, "cpu", "tune"),
                   {"lr": {"low": 1e-2, "high": 1e-1, "log": True, "int": False}}, {"lr": 0.05}, 2, SEED, "tune")
    out["tuner"] = (digest(np.array([study["chosen"]["lr"], study["best_value"]])), study["best_value"])
    # an unlearning step: shard 0 retrained without five of its interactions, then AttAgg over the new sub-models
    rows = np.flatnonzero(shard == 0)[:5]
    kept, kept_shard = without(train, rows), np.delete(shard, rows)
    _, res = train_submodel("BPR", quick, shard_interactions(kept, None, 0, assign=kept_shard), valid, SEED, "cpu",
                            "u")
    p0, q0 = res.model.embeddings()
    sub_p[0], sub_q[0] = p0.detach(), q0.detach()
    _, agg, _ = train_aggregator("att", "BPR", quick, agg_params, sub_p, sub_q, kept, valid, SEED, "cpu", "u")
    p, q = agg.embeddings()
    out["unlearning"] = (digest(*agg.state_dict().values(), p, q), recall20(p, q, kept, valid))
    return out


def main() -> None:
    torch.set_num_threads(int(sys.argv[1]))
    train, valid = data()
    first, second = probe(train, valid), probe(train, valid)
    print(json.dumps({"same_bits": {k: first[k][0] == second[k][0] for k in first},
                      "recall": {k: v[1] for k, v in first.items() if v[1] is not None},
                      "digest": {k: v[0] for k, v in first.items()},
                      "machine": machine()}))


if __name__ == "__main__":
    main()
