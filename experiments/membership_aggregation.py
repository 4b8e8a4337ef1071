"""Training-free and few-parameter aggregation of K sub-models by shard membership (docs/report/aggregator_designs.md).

Reads a sharded run of the workflow (its sub-models' embeddings and its partition) and prints validation Recall@20
of: MeanAgg; each sub-model's scores standardised per (user, sub-model) over the items and weighted by the user's
share of training interactions in that shard (and by the item's share too); and the membership softmax, whose
K + 3 numbers are fitted by L-BFGS on a seeded sample of BPR triples.

    python experiments/membership_aggregation.py results/ml-100k-offline BPR inbp --seed 2022
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="a dataset's results folder (results/<dataset>)")
    ap.add_argument("model")
    ap.add_argument("partition")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--triples", type=int, default=200000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import numpy as np
    import torch

    from recunlearn.artefacts import load_state
    from recunlearn.data import load_interactions
    from recunlearn.metrics import evaluate

    torch.set_num_threads(args.threads)
    run = Path(args.run)
    train, valid = load_interactions(run / "data" / "train.npz"), load_interactions(run / "data" / "valid.npz")
    with np.load(run / f"seed{args.seed}" / "partitions" / f"{args.partition}_K{args.k}" / "assignment.npz") as z:
        shard = z["shard"]
    subs = [load_state(run / args.model / f"seed{args.seed}" / f"{args.partition}_K{args.k}" / f"shard_{i}" /
                       "embeddings.pt") for i in range(args.k)]
    P = torch.stack([s["user"] for s in subs]).float()
    Q = torch.stack([s["item"] for s in subs]).float()
    K, M, N = args.k, train.n_users, train.n_items
    cu = np.zeros((M, K))
    np.add.at(cu, (train.user, shard), 1)
    ci = np.zeros((N, K))
    np.add.at(ci, (train.item, shard), 1)
    a = torch.from_numpy(cu / np.maximum(cu.sum(1, keepdims=True), 1)).float()  # the user's share in each shard
    b = torch.from_numpy(ci / np.maximum(ci.sum(1, keepdims=True), 1)).float()  # the item's
    # mean and standard deviation of each (user, sub-model)'s scores over the items, analytically
    qbar = Q.mean(1)
    cov = torch.einsum("knd,kne->kde", Q - qbar[:, None], Q - qbar[:, None]) / N
    mu = torch.einsum("kmd,kd->mk", P, qbar)
    sd = torch.einsum("kmd,kde,kme->mk", P, cov, P).clamp_min(1e-12).sqrt()

    def recall(combine) -> float:
        def score(users):
            s = torch.einsum("kbd,knd->bnk", P[:, users], Q)
            return combine(users, s, (s - mu[users][:, None]) / sd[users][:, None])

        return evaluate(score, valid, [train], [20], batch_users=256)[("Recall", 20)]

    print(f"{args.model} {args.partition} K = {K}: validation Recall@20")
    print(f"  MeanAgg: {recall(lambda u, s, z: s.mean(-1)):.4f}")
    print(f"  standardised, by the user's share: {recall(lambda u, s, z: (z * a[u][:, None]).sum(-1)):.4f}")
    print(f"  standardised, by the user's x the item's share: "
          f"{recall(lambda u, s, z: (z * a[u][:, None] * b[None]).sum(-1)):.4f}")

    g = torch.Generator().manual_seed(args.seed)
    n = min(args.triples, len(train))
    idx = torch.randperm(len(train), generator=g)[:n]
    u, pos = torch.from_numpy(train.user)[idx], torch.from_numpy(train.item)[idx]
    neg = torch.randint(N, (n,), generator=g)

    def z_of(users, items):
        return (torch.einsum("ksd,ksd->sk", P[:, users], Q[:, items]) - mu[users]) / sd[users]

    eps = 1e-3
    zp, zn = z_of(u, pos), z_of(u, neg)
    la, lbp, lbn = torch.log(a[u] + eps), torch.log(b[pos] + eps), torch.log(b[neg] + eps)
    theta = torch.zeros(K + 3, requires_grad=True)

    def combined(la_, lb_, z_, th):
        return (torch.softmax(th[0] * la_ + th[1] * lb_ + th[3:], -1) * z_).sum(-1) * torch.exp(th[2])

    opt = torch.optim.LBFGS([theta], lr=1, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = -torch.nn.functional.logsigmoid(combined(la, lbp, zp, theta) - combined(la, lbn, zn, theta)).mean()
        loss = loss + 1e-4 * (theta ** 2).sum()
        loss.backward()
        return loss

    t0 = time.perf_counter()
    opt.step(closure)
    seconds = time.perf_counter() - t0
    th, lb_all = theta.detach(), torch.log(b + eps)
    value = recall(lambda users, s, z: combined(torch.log(a[users] + eps)[:, None], lb_all[None], z, th))
    print(f"  membership softmax ({K + 3} numbers, {n:,} triples, L-BFGS {seconds:.2f} s): {value:.4f}")

    # the registered aggregator (aggregators.membership.MembAgg, factorised as a dot product), as the workflow trains it
    from recunlearn.sharded import train_aggregator

    test = load_interactions(run / "data" / "test.npz")
    for name in ("memb", "mean"):
        _, agg, res = train_aggregator(name, args.model, {}, {}, P, Q, train, valid, args.seed, "cpu", name,
                                       shard=shard.astype(np.int64))
        with torch.no_grad():
            p, q = agg.embeddings()
        from recunlearn.metrics import embedding_scorer

        v = evaluate(embedding_scorer(p, q), valid, [train], [20], batch_users=256)[("Recall", 20)]
        t = evaluate(embedding_scorer(p, q), test, [train, valid], [20], batch_users=256)[("Recall", 20)]
        took = f", fitted in {res.train_seconds:.2f} s ({res.epochs_run} L-BFGS iterations)" if res else ""
        print(f"  registered '{name}': validation Recall@20 {v:.4f}, test {t:.4f}{took}")


if __name__ == "__main__":
    main()
