"""The efficient non-sampling WMF loss (thesis eq. 3.9) equals the naive all-pairs loss, gradients included."""

import pytest
import torch

from recunlearn.losses import bpr_loss, l2, wmf_efficient_loss, wmf_naive_loss


@pytest.mark.parametrize("c0", [0.05, 0.2, 1.0])
def test_efficient_wmf_equals_naive_up_to_the_constant(c0):
    g = torch.Generator().manual_seed(0)
    b, n, d = 7, 11, 5
    p = torch.randn(b, d, generator=g, dtype=torch.float64, requires_grad=True)
    q = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(b, n, generator=g) < 0.3
    rows, items = mask.nonzero(as_tuple=True)
    eff = wmf_efficient_loss(p, q, rows, items, c0)
    naive = wmf_naive_loss(p, q, rows, items, c0)
    # (1 - y)^2 = 1 - 2y + y^2 on each positive: the constant is the number of positives
    assert eff.item() == pytest.approx(naive.item() - len(rows), rel=1e-12, abs=1e-9)
    g_eff = torch.autograd.grad(eff, (p, q))
    g_naive = torch.autograd.grad(naive, (p, q))
    for a, b_ in zip(g_eff, g_naive):
        assert torch.allclose(a, b_, rtol=1e-10, atol=1e-10)


def test_bpr_loss_is_minus_log_sigmoid_of_the_margin():
    pos, neg = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 3.0])
    expected = -torch.log(torch.sigmoid(pos - neg)).mean()
    assert bpr_loss(pos, neg).item() == pytest.approx(expected.item())
    # stable where the naive form overflows
    assert torch.isfinite(bpr_loss(torch.tensor([-200.0]), torch.tensor([200.0])))


def test_l2_is_squared_norm_over_batch():
    a, b = torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert l2(a, b, batch_size=2).item() == pytest.approx((25 + 1 + 4) / 2)
