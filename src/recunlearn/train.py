"""One trainer for every base model: seeded, early stopping on validation Recall@10, best parameters kept.

Progress goes to the log: one line per evaluation with epoch, mean loss, validation Recall@10 and elapsed time.
The wall time reported is that of the training loop (validation included, data loading excluded).
"""

from __future__ import annotations

import copy
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch

from . import optim
from .data import Interactions, check_ids
from .metrics import evaluate
from .models import ModelConfig, model_class
from .models.hparams import OPTIMIZERS
from .models.base import Recommender
from .sampling import NegativeSampler, pair_batches, user_batches, user_pair_batches

log = logging.getLogger(__name__)


def resolve_device(device: str = "auto", gpus: int | None = None) -> torch.device:
    """The job's device. ``auto``: the CPU when ``training.gpus`` is 0, else CUDA when torch can use it (with several
    visible GPUs, the one with the most free memory, so that concurrent local jobs spread), else the CPU;
    ``cpu``, ``cuda`` and ``cuda:N`` as given. A one-line RuntimeError, instead of a failure deep in the first job
    or a silent CPU run, for: CUDA asked for but not usable; ``cuda:N`` beyond the visible devices (under SLURM a job
    sees only its own GPUs, numbered from 0); ``auto`` in a job that was given GPUs (``CUDA_VISIBLE_DEVICES``) that
    torch cannot use (e.g. a driver older than the wheel's CUDA), which would otherwise train on the CPU for the
    job's whole runtime."""
    if device == "auto":
        if gpus == 0:
            return torch.device("cpu")
        if torch.cuda.is_available():
            n = torch.cuda.device_count()
            if n > 1:  # local jobs run side by side: each takes the GPU with the most free memory, not all cuda:0
                free = [torch.cuda.mem_get_info(i)[0] for i in range(n)]
                return torch.device(f"cuda:{max(range(n), key=lambda i: (free[i], -i))}")
            return torch.device("cuda")
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
        if gpus and visible not in ("", "-1", "NoDevFiles"):
            raise RuntimeError(f"device 'auto': this job was given GPU(s) {visible} (CUDA_VISIBLE_DEVICES) but torch "
                               f"{torch.__version__} (CUDA {torch.version.cuda}) cannot use them (torch.cuda."
                               "is_available() is False: an older driver?); set training.device: cpu to train on the "
                               "CPU, or install a torch build for this driver")
        return torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device '{device}' was asked for but CUDA is not available (use 'auto' or 'cpu')")
        n = torch.cuda.device_count()
        if dev.index is not None and dev.index >= n:
            raise RuntimeError(f"device '{device}': only {n} CUDA device(s) visible (cuda:0 to cuda:{n - 1}); under "
                               "SLURM a job sees only the GPUs it was given, numbered from 0: use 'cuda' or 'auto'")
    return dev


def device_info(device: str | torch.device) -> dict:
    """What a sidecar records of the device: its name, and on CUDA the CUDA version and the GPU's name, with a
    note that CUDA runs are not bit-reproducible (``seed_everything`` turns deterministic algorithms on for the CPU
    only: dropout and atomic adds differ from run to run on a GPU)."""
    device = torch.device(device)
    info = {"device": str(device)}
    if device.type == "cuda":
        info.update(cuda_version=torch.version.cuda, gpu=torch.cuda.get_device_name(device),
                    bit_reproducible=False)
    else:
        info["bit_reproducible"] = True
    return info


def setup_torch(threads: int, device: str, gpus: int | None = None) -> torch.device:
    """What every training job does first: its CPU threads, then its device (``resolve_device``)."""
    torch.set_num_threads(max(1, int(threads)))
    return resolve_device(device, gpus)


def make_optimizer(cfg: ModelConfig, params):
    """torch.optim's Adagrad / Adam / SGD updates, from ``optim`` (the same arithmetic, without torch.optim's
    import of torch._dynamo at every job's start)."""
    name = cfg.optimizer.lower()
    if name == "als":  # alternating least squares: the model's own closed-form sweep (``Recommender.als_sweep``)
        return None
    if name == "adagrad":
        return optim.Adagrad(params, lr=cfg.lr, initial_accumulator_value=1e-8)
    if name == "adam":
        return optim.Adam(params, lr=cfg.lr)
    if name == "sgd":
        return optim.SGD(params, lr=cfg.lr)
    raise ValueError(f"optimizer '{cfg.optimizer}': expected {', '.join(OPTIMIZERS)}")


@dataclass
class TrainResult:
    model: Recommender
    best_epoch: int
    epochs_run: int
    best_valid_recall: float
    train_seconds: float
    history: list[dict] = field(default_factory=list)


def deterministic_algorithms(mode: bool) -> None:
    """``torch.use_deterministic_algorithms(mode)`` without its import of torch's compiler stack (``torch._inductor``,
    ~2 s per process on 2 cores), which it loads only to set the same flag for compiled code: nothing here is
    compiled. When the compiler is already loaded its flag is set too, as torch's own function does."""
    inductor = sys.modules.get("torch._inductor.config")
    if inductor is not None or not hasattr(torch._C, "_set_deterministic_algorithms"):
        torch.use_deterministic_algorithms(mode)
        return
    torch._C._set_deterministic_algorithms(mode)


def seed_everything(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """Seed torch, and on the CPU turn on torch's deterministic algorithms: with more than one thread the backward
    of advanced indexing (``x[idx]``, an ``index_put_`` that accumulates) otherwise adds in an order that changes
    from run to run, and two runs of one configuration drift apart (seen on MovieLens-100K at 2 threads). On one
    thread both give the same bits. On CUDA the flag is left off: some CUDA kernels have no deterministic version
    and would raise, and identical runs are promised on the CPU only."""
    deterministic_algorithms(torch.device(device).type == "cpu")
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def epoch_batches(model: Recommender, cfg: ModelConfig, train: Interactions, sampler, generator):
    """One epoch's batches: user batches for the WMF loss, else (user, positive, negative) triples drawn per
    training interaction or per user (``cfg.sampling``)."""
    if sampler is None:
        return user_batches(train, cfg.batch_size, generator)
    if getattr(cfg, "sampling", "interaction") == "user":
        return user_pair_batches(train, sampler, cfg.batch_size, generator)
    return pair_batches(train, sampler, cfg.batch_size, generator)


def train_epoch(model: Recommender, optimizer, batches, device) -> float:
    """One pass of the optimiser over ``batches``; the mean training loss."""
    model.train()
    total, count = None, 0
    for batch in batches:
        batch = tuple(t.to(device) for t in batch)
        loss = model.calculate_loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # summed on the device: one host sync per epoch (the .item() below), not one per batch
        weighted = loss.detach().double() * len(batch[0])
        total = weighted if total is None else total + weighted
        count += len(batch[0])
    return float(total.item()) / count if count else 0.0


def fit(model: str | Callable[[], Recommender], cfg: ModelConfig, train: Interactions, valid: Interactions,
        seed: int, device: str | torch.device = "cpu", label: str = "", eval_at_start: bool = False,
        on_eval: Callable[[int, float], None] | None = None) -> TrainResult:
    """Train ``model`` (a base model's name, or a function building a Recommender, e.g. an aggregator) on
    ``train``; early-stop on ``valid`` Recall@10; return it with its best parameters (``cfg.keep == "last"``: train
    ``max_epochs`` epochs, no early stopping, and return the last parameters). With ``eval_at_start`` the
    untrained model is evaluated too (epoch 0) and kept if no epoch beats it. ``on_eval(epoch, recall)`` is called
    after each evaluation (the tuner's pruner: it may raise to end the run)."""
    check_ids(train, f"{label or 'training data'}")
    if len(train) == 0:
        raise ValueError(f"{label or 'model'}: no training interaction to train on (the deletions or the split left "
                         "none): expected fewer deleted interactions or users, or fewer shards")
    device = torch.device(device)
    generator = seed_everything(seed, device)
    if isinstance(model, str):
        model = model_class(model)(train.n_users, train.n_items, cfg, train)
    else:
        model = model()
    model = model.to(device)
    optimizer = make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
    if optimizer is None and not hasattr(model, "als_sweep"):
        raise ValueError(f"{label or 'model'}: optimizer 'als' needs a model with a closed-form step (WMF); "
                         f"expected one of: {', '.join(OPTIMIZERS)}")
    sampler = NegativeSampler(train) if model.input_type == "pairs" else None
    if getattr(cfg, "sampling", "interaction") not in ("interaction", "user"):
        raise ValueError(f"{label or 'model'}: sampling '{cfg.sampling}': expected interaction or user")
    log.info("%s: %s on %d interactions, device %s, seed %d, %s", label, model, len(train), device, seed, asdict(cfg))

    keep_best = getattr(cfg, "keep", "best") == "best"
    if not keep_best and getattr(cfg, "keep", "best") != "last":
        raise ValueError(f"{label or 'model'}: keep '{cfg.keep}': expected best or last")
    best, best_epoch, best_state, stale = -1.0, 0, None, 0
    history: list[dict] = []
    t0 = time.perf_counter()

    def validate(epoch: int, loss: float) -> bool:
        """Evaluate, keep the best parameters; True when patience has run out."""
        nonlocal best, best_epoch, best_state, stale
        model.eval()
        with torch.no_grad():
            recall = evaluate(model.validation_scorer(), valid, [train], [10], device=device)[("Recall", 10)]
        elapsed = time.perf_counter() - t0
        history.append({"epoch": epoch, "loss": loss, "valid_recall@10": recall, "seconds": elapsed})
        improved = recall > best
        if improved:
            best, best_epoch, stale = recall, epoch, 0
            if keep_best:
                best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
        log.info("%s epoch %d: loss %.4f, valid Recall@10 %.4f%s, %.1f s", label, epoch, loss, recall,
                 " (best)" if improved else "", elapsed)
        if on_eval is not None:
            on_eval(epoch, recall)
        return stale >= cfg.patience

    epoch = 0
    if eval_at_start:  # an aggregator starts from a meaningful point (StaticAgg: MeanAgg); keep it if never beaten
        validate(0, float("nan"))
    for epoch in range(1, cfg.max_epochs + 1):
        if optimizer is None:
            loss = model.als_sweep(train)
        else:
            loss = train_epoch(model, optimizer, epoch_batches(model, cfg, train, sampler, generator), device)
        if epoch % cfg.eval_every and epoch != cfg.max_epochs:
            continue
        if validate(epoch, loss) and keep_best:
            log.info("%s: no improvement in %d evaluations: stopping at epoch %d", label, cfg.patience, epoch)
            break
    seconds = time.perf_counter() - t0
    if not keep_best:  # keep: last, the authors' protocol: the parameters after max_epochs, whatever validation says
        best_epoch, best = epoch, history[-1]["valid_recall@10"] if history else float("nan")
    elif best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    log.info("%s: best epoch %d (valid Recall@10 %.4f) of %d, %.1f s", label, best_epoch, best, epoch, seconds)
    return TrainResult(model, best_epoch, epoch, best, seconds, history)
