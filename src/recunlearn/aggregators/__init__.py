"""The aggregators of K sub-models (docs/guide/method.md, section 7), one file per aggregator or family, each registered
in ``registry.py``; ``build`` makes one by its registered name."""

from .base import AggregatorConfig, build, softmax

__all__ = ["AggregatorConfig", "build", "softmax"]
