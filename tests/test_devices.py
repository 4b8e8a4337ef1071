"""Device cleanliness without a GPU: the training steps run on PyTorch's `meta` device, which refuses any op that
mixes it with a CPU tensor, so a tensor left on the CPU (a buffer not registered on the model, an index built on
the CPU and not moved) fails here as it would on CUDA.

The meta backend has no sparse kernels: LightGCN's propagation (a sparse matrix product) and the optimiser step on
BPR's sparse embedding gradients cannot run on it; those are covered as far as the backend goes (the loss and its
backward for BPR; LightGCN's dense BPR loss on its final embeddings is the same code as BPR's)."""

import numpy as np
import pytest
import torch

from recunlearn.aggregators import AggregatorConfig, build
from recunlearn.data import Interactions
from recunlearn.models import model_class, model_config
from recunlearn.registry import AGGREGATORS
from recunlearn.sampling import NegativeSampler
from recunlearn.train import epoch_batches, make_optimizer

META = torch.device("meta")


def data(m=30, n=40, per_user=6, seed=0):
    rng = np.random.default_rng(seed)
    items = np.concatenate([rng.choice(n, per_user, replace=False) for _ in range(m)])
    return Interactions(np.repeat(np.arange(m), per_user), items, m, n)


def one_step(model, cfg, train, step=True):
    """One batch of the trainer's own batches, moved as train.train_epoch moves them: loss, backward, step."""
    sampler = NegativeSampler(train) if model.input_type == "pairs" else None
    batch = next(iter(epoch_batches(model, cfg, train, sampler, torch.Generator().manual_seed(0))))
    loss = model.calculate_loss(tuple(t.to(META) for t in batch))
    assert loss.device == META
    loss.backward()
    if step:
        make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad]).step()
    return loss


@pytest.mark.parametrize("name,step", [("BPR", False), ("WMF", True)])
def test_base_model_training_steps_stay_on_the_device(name, step):
    train = data()
    cfg = model_config(name, {"dim": 8, "batch_size": 16})
    model = model_class(name)(train.n_users, train.n_items, cfg, train).to(META)
    one_step(model, cfg, train, step)
    with torch.no_grad():
        p, q = model.embeddings()
    assert p.device == q.device == META


# AttAgg's BPR batch aggregates each distinct user and item once (torch.unique): a data-dependent shape, which the
# meta backend cannot compute
NO_META = {("att", "bpr"): "torch.unique has no meta kernel",
           ("memb", "bpr"): "torch.unique has no meta kernel (MembAgg trains by its solve, on the sub-models' device)",
           **{("refit", loss): "sparse CSR products and linalg.solve have no meta kernels (RefitAgg re-fits and solves "
                               "once, on the sub-models' device)" for loss in ("bpr", "wmf")}}


@pytest.mark.parametrize("loss", ["bpr", "wmf"])
@pytest.mark.parametrize("aggregator", list(AGGREGATORS))
def test_aggregator_training_steps_stay_on_the_device(aggregator, loss):
    if (aggregator, loss) in NO_META:
        pytest.skip(NO_META[(aggregator, loss)])
    train = data()
    k, d = 3, 8
    sub_p, sub_q = torch.randn(k, train.n_users, d).to(META), torch.randn(k, train.n_items, d).to(META)
    cfg = AggregatorConfig(batch_size=16)
    model = build(aggregator, sub_p, sub_q, cfg, train, loss).to(META)
    if any(p.requires_grad for p in model.parameters()):
        one_step(model, cfg, train)
    with torch.no_grad():
        p, q = model.embeddings()
    assert p.device == q.device == META


def test_a_cpu_tensor_left_behind_is_caught():
    """The check can fail: a model whose buffer stays on the CPU is refused on meta."""
    train = data()
    cfg = model_config("WMF", {"dim": 8, "batch_size": 16})
    model = model_class("WMF")(train.n_users, train.n_items, cfg, train).to(META)
    stray = torch.ones(train.n_users)  # left on the CPU, as a tensor that is not a registered buffer would be
    real = model.calculate_loss
    model.calculate_loss = lambda batch: real(batch) + (model.embeddings()[0][:, 0] * stray).sum()
    with pytest.raises((RuntimeError, NotImplementedError)):
        one_step(model, cfg, train)


def test_gpu_smoke_runs_here_and_says_when_it_skips_cuda(capsys):
    """benchmarks/gpu_smoke.py, the first script a GPU user runs, runs on a CPU-only machine too (CI runs it here):
    every model and aggregator and an unlearning step, with a one-line notice that the CUDA part is skipped."""
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("gpu_smoke", ROOT / "benchmarks" / "gpu_smoke.py")
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    assert smoke.main(["--users", "120", "--items", "90", "--epochs", "2", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("BPR", "WMF", "LightGCN"):
        assert f"{name} + att (after one unlearning step)" in out and f"{name} + static over" in out
    if not torch.cuda.is_available():
        assert "the CUDA part is skipped" in out and out.strip().endswith("(CPU only)")
