"""MeanAgg (SISA): the average of the sub-models' scores."""

from __future__ import annotations

from .base import _Aggregator

class MeanAgg(_Aggregator):
    """SISA: the average of the sub-models' scores."""

    def users(self, idx):
        return self.sub_p.index_select(1, idx).permute(1, 0, 2).reshape(len(idx), -1) / self.k

    def items(self, idx):
        return self.sub_q.index_select(1, idx).permute(1, 0, 2).reshape(len(idx), -1)
