"""The hyper-parameters of the aggregators (the config's ``aggregation`` section; docs/guide/method.md, section 7),
torch-free. The section's schema is generated from the fields this class declares (``AGGREGATION_KEYS``); the ones
it inherits from ``ModelConfig`` and does not declare keep their defaults and are not settable."""

from __future__ import annotations

from dataclasses import dataclass

from . import ModelConfig, hp, like


@dataclass(frozen=True)
class AggregatorConfig(ModelConfig):
    optimizer: str = like(ModelConfig, "optimizer", "adagrad", "optimizer (the authors' code: Adagrad at the base "
                          "model's learning rate)")
    lr: float = like(ModelConfig, "lr", 0.05, "learning rate")
    batch_size: int = like(ModelConfig, "batch_size", 4096, "interactions per batch (for WMF the base model's users "
                           "per batch is used)")
    reg_weight: float = like(ModelConfig, "reg_weight", 1e-5, "weight of |Theta|^2 of the aggregator's parameters")
    max_epochs: int = like(ModelConfig, "max_epochs", 50, "most epochs (the authors' code: 50; the paper reports ~10 "
                           "suffice)")
    eval_every: int = like(ModelConfig, "eval_every", 1)
    patience: int = like(ModelConfig, "patience", 10, "evaluations without improvement before stopping (best kept; "
                         "the untrained aggregator is evaluated too)")
    attention_size: int = hp(32, "attention size k of AttAgg", minimum=1)
    # how AttAgg starts and is regularised; the defaults are the authors' RecEraser code, chosen on validation over
    # an identity start (docs/report/ablation.md)
    init: str = hp("normal", "AttAgg's W_i and b_i at the start: Xavier-normal (the authors' code) or the identity "
                   "plus noise", enum=["normal", "identity"])
    attention_init: str = hp("uniform", "AttAgg's h1, h2 at the start: 0.01 everywhere (attention 1/K, the authors' "
                             "code) or random normal", enum=["uniform", "random"])
    keep_prob: float = hp(0.7, "dropout keep probability on AttAgg's aggregated user embedding while training (the "
                          "authors' code: 0.7; 1 = no dropout)", exclusiveMinimum=0, maximum=1)
    reg_attention: bool = hp(False, "regularise the attention layers too (the authors' code regularises only W_i and "
                             "b_i)")
    # MembAgg (beyond the paper): its K + 3 numbers are fitted full-batch by L-BFGS on this many seeded BPR triples
    triples: int = hp(20000, "MembAgg (beyond the paper): seeded BPR triples of its full-batch fit", minimum=1)
    lbfgs_iterations: int = hp(100, "MembAgg: most L-BFGS iterations of its fit", minimum=1)
    # RefitAgg (beyond the paper): the ridge of its users' re-fit, relative to the items' scale (chosen on ml-100k
    # validation, docs/report/frontier.md)
    refit_reg: float = hp(2.0, "RefitAgg (beyond the paper): ridge of its re-fit of each sub-model's user vectors, "
                          "in units of the mean squared item coordinate", exclusiveMinimum=0)


# the config's aggregation keys: what AggregatorConfig declares itself
AGGREGATION_KEYS = tuple(AggregatorConfig.__annotations__)
AGGREGATION_DESCRIPTION = "training of the aggregators (docs/guide/method.md, section 7); the loss is the base model's own"
