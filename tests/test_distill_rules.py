"""Weighting rules, the KD loss, knowledge packets and their gradient equivalence."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from simsat.distill.losses import kd_loss, knowledge_targets, weighted_kd_loss
from simsat.distill.weighting import WEIGHTING_RULES, get_weighting, paper, static
from simsat.errors import ConfigError

torch.set_num_threads(1)
C = 10


def _probs_with_max(maxima: list[float], num_classes: int = C) -> torch.Tensor:
    """(B, C) float64 rows whose largest probability is maxima[i], the rest spread evenly."""
    rows = []
    for i, m in enumerate(maxima):
        row = torch.full((num_classes,), (1.0 - m) / (num_classes - 1), dtype=torch.float64)
        row[i % num_classes] = m
        rows.append(row)
    return torch.stack(rows)


def _two_teachers(max_1: list[float], max_2: list[float]) -> torch.Tensor:
    return torch.stack([_probs_with_max(max_1), _probs_with_max(max_2)])


@pytest.mark.parametrize(
    ("conf_1", "conf_2", "expected"),
    [
        (0.30, 0.35, (0.0, 0.0)),  # both < 0.4
        (0.45, 0.55, (0.35, 0.45)),  # both < 0.6: 0.5 - (0.6 - conf)
        (0.30, 0.50, (0.20, 0.40)),  # one below 0.4, the other in [0.4, 0.6): still "both < 0.6"
        (0.15, 0.45, (0.10, 0.35)),  # 0.5 - 0.45 = 0.05 clamped to 0.1
        (0.50, 0.90, (0.30, 0.70)),  # only teacher 1 < 0.6
        (0.95, 0.20, (0.70, 0.30)),  # only teacher 2 < 0.6
        (0.70, 0.80, (0.50, 0.50)),  # both confident
        (0.60, 0.60, (0.50, 0.50)),  # 0.6 is not below 0.6
    ],
)
def test_paper_rule_every_branch(conf_1: float, conf_2: float, expected: tuple[float, float]) -> None:
    w = paper(_two_teachers([conf_1] * 4, [conf_2] * 4))
    assert w.shape == (4, 2)
    for row in w.tolist():
        assert row == pytest.approx(list(expected), abs=1e-12)


def test_paper_rule_uses_batch_mean_of_max_probability() -> None:
    # teacher 1 images at 0.9 and 0.3 -> mean 0.6 (not < 0.6); teacher 2 at 0.5 and 0.3 -> 0.4
    w = paper(_two_teachers([0.9, 0.3], [0.5, 0.3]))
    assert w.tolist() == [[0.7, 0.3], [0.7, 0.3]]
    with pytest.raises(ConfigError, match="exactly 2 teachers"):
        paper(torch.stack([_probs_with_max([0.5])] * 3))


def test_static_and_none_rules() -> None:
    p2 = _two_teachers([0.2, 0.9], [0.5, 0.5])
    assert static(p2).tolist() == [[0.5, 0.5], [0.5, 0.5]]
    p3 = torch.stack([_probs_with_max([0.9])] * 3)
    assert static(p3).tolist() == [[0.5, 0.5, 0.5]]
    assert get_weighting("none")(p3).tolist() == [[0.0, 0.0, 0.0]]


def test_get_weighting_names_and_parameters() -> None:
    assert set(WEIGHTING_RULES) == {"paper", "static", "entropy", "maxprob", "none"}
    with pytest.raises(ConfigError, match="unknown weighting rule 'fancy'.*paper.*entropy"):
        get_weighting("fancy")
    with pytest.raises(ConfigError, match="no parameter.*gamma"):
        get_weighting("entropy", gamma=1.0)
    p = torch.softmax(torch.tensor([[[4.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]]]), dim=-1)
    sharp = get_weighting("entropy", tau=0.01)(p)
    soft = get_weighting("entropy", tau=10.0)(p)
    assert sharp[0, 0] / sharp[0, 1] > soft[0, 0] / soft[0, 1] > 1.0


@pytest.mark.parametrize("name", ["entropy", "maxprob"])
def test_per_image_rules_properties(name: str) -> None:
    rule = get_weighting(name)
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(16, C, generator=gen)
    # teacher 0 is a sharper copy of teacher 1 (same ranking, lower entropy, higher max-prob)
    z = torch.stack([base * 6, base * 1.5, torch.randn(16, C, generator=gen)])
    p = torch.softmax(z, dim=-1)
    w = rule(p)
    assert w.shape == (16, 3) and (w >= 0).all()
    assert (w[:, 0] > w[:, 1]).all()
    # permutation equivariance over teachers
    perm = torch.tensor([2, 0, 1])
    assert torch.allclose(rule(p[perm]), w[:, perm], atol=1e-6)
    # mean over teachers is trust / 2 <= 0.5
    assert (w.mean(dim=1) <= 0.5 + 1e-6).all()
    # per image: permuting images permutes weights (no batch coupling)
    order = torch.randperm(16, generator=gen)
    assert torch.allclose(rule(p[:, order]), w[order], atol=1e-6)


@pytest.mark.parametrize("name", ["entropy", "maxprob"])
def test_per_image_rules_trust_scale(name: str) -> None:
    rule = get_weighting(name)
    certain = torch.zeros(2, 1, C)
    certain[:, 0, 3] = 60.0  # two identical, fully confident teachers
    uniform = torch.zeros(2, 1, C)
    w_certain = rule(torch.softmax(certain, dim=-1))
    w_uniform = rule(torch.softmax(uniform, dim=-1))
    assert w_certain.tolist()[0] == pytest.approx([0.5, 0.5], abs=1e-5)  # = static for two teachers
    assert w_uniform.tolist()[0] == pytest.approx([0.0, 0.0], abs=1e-6)
    # disagreeing confident teachers are trusted less than agreeing ones
    disagree = certain.clone()
    disagree[1, 0, 3], disagree[1, 0, 5] = 0.0, 60.0
    assert rule(torch.softmax(disagree, dim=-1)).sum() < w_certain.sum() - 0.2


def test_per_image_rules_undo_the_temperature() -> None:
    z = torch.randn(2, 8, C, generator=torch.Generator().manual_seed(1)) * 4
    for name in ("entropy", "maxprob"):
        rule = get_weighting(name)
        at_1 = rule(torch.softmax(z, dim=-1))
        at_5 = rule(torch.softmax(z / 5.0, dim=-1), temperature=5.0)
        assert torch.allclose(at_1, at_5, atol=1e-5)


def _softmax(xs: list[float], t: float = 1.0) -> list[float]:
    m = max(xs)
    e = [math.exp((x - m) / t) for x in xs]
    return [v / sum(e) for v in e]


def _kl(p: list[float], q: list[float]) -> float:
    return sum(a * math.log(a / b) for a, b in zip(p, q, strict=True) if a > 0)


def test_kd_loss_paper_rule_matches_hand_computation() -> None:
    t = 2.0
    student = [[1.0, 0.0, -1.0], [0.5, 0.2, 0.1]]
    teacher_1 = [[1.5, 0.0, 0.0], [0.0, 1.8, 0.0]]
    teacher_2 = [[1.0, 0.5, 0.0], [0.0, 0.0, 0.8]]
    labels = [0, 1]
    p1 = [_softmax(r, t) for r in teacher_1]
    p2 = [_softmax(r, t) for r in teacher_2]
    conf_1 = sum(max(r) for r in p1) / 2
    conf_2 = sum(max(r) for r in p2) / 2
    assert 0.4 <= conf_1 < 0.6 and 0.4 <= conf_2 < 0.6  # "both below 0.6" branch
    a, b = 0.5 - (0.6 - conf_1), 0.5 - (0.6 - conf_2)
    q = [_softmax(r, t) for r in student]
    ce = sum(-math.log(_softmax(student[i])[labels[i]]) for i in range(2)) / 2
    kl_1 = sum(_kl(p1[i], q[i]) for i in range(2)) / 2
    kl_2 = sum(_kl(p2[i], q[i]) for i in range(2)) / 2
    expected = (1 - (a + b) / 2) * ce + ((a + b) / 2) * t**2 * (a * kl_1 + b * kl_2)

    got = kd_loss(
        torch.tensor(student),
        [torch.tensor(teacher_1), torch.tensor(teacher_2)],
        torch.tensor(labels),
        "paper",
        temperature=t,
    )
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_kd_loss_paper_equals_spec_formula_with_torch_kl_div() -> None:
    gen = torch.Generator().manual_seed(2)
    zs, z1, z2 = (torch.randn(64, C, generator=gen) * s for s in (1.0, 8.0, 3.0))
    y = torch.randint(0, C, (64,), generator=gen)
    t = 5.0
    p1, p2 = torch.softmax(z1 / t, -1), torch.softmax(z2 / t, -1)
    a, b = paper(torch.stack([p1, p2]))[0].tolist()
    log_q = F.log_softmax(zs / t, -1)
    kl1 = F.kl_div(log_q, p1, reduction="batchmean")
    kl2 = F.kl_div(log_q, p2, reduction="batchmean")
    spec = (1 - (a + b) / 2) * F.cross_entropy(zs, y) + ((a + b) / 2) * t**2 * (a * kl1 + b * kl2)
    assert float(kd_loss(zs, [z1, z2], y, "paper", t)) == pytest.approx(float(spec), rel=1e-5)


def test_kd_loss_none_is_plain_cross_entropy() -> None:
    zs = torch.tensor([[2.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    y = torch.tensor([2, 1])
    expected = sum(-math.log(_softmax(r)[c]) for r, c in zip(zs.tolist(), y.tolist(), strict=True)) / 2
    assert float(kd_loss(zs, [], y, "none")) == pytest.approx(expected, rel=1e-6)


def test_weighted_kd_loss_hand_computation_with_unlabelled_image() -> None:
    t = 3.0
    student = [[0.3, -0.2, 1.0], [1.5, 0.0, 0.0]]
    targets = [[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]]
    kd_w, ce_w, labels = [0.25, 0.8], [0.5, 0.6], [2, -1]  # image 2 has no label
    q = [_softmax(r, t) for r in student]
    ce_0 = -math.log(_softmax(student[0])[2])
    expected = (ce_w[0] * ce_0 + 0.0) / 2 + t**2 * (
        kd_w[0] * _kl(targets[0], q[0]) + kd_w[1] * _kl(targets[1], q[1])
    ) / 2
    got = weighted_kd_loss(
        torch.tensor(student), torch.tensor(targets), torch.tensor(kd_w), torch.tensor(ce_w), torch.tensor(labels), t
    )
    assert float(got) == pytest.approx(expected, rel=1e-5)
    no_labels = weighted_kd_loss(
        torch.tensor(student), torch.tensor(targets), torch.tensor(kd_w), torch.tensor(ce_w), None, t
    )
    assert float(no_labels) == pytest.approx(expected - ce_w[0] * ce_0 / 2, rel=1e-5)


def _grad(loss_fn, logits: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
    z = logits.clone().requires_grad_(True)
    loss_fn(z).backward()
    assert z.grad is not None
    return z.grad


@pytest.mark.parametrize(("rule", "teachers"), [("paper", 2), ("static", 2), ("entropy", 3), ("maxprob", 2)])
def test_knowledge_targets_give_the_same_gradient_as_kd_loss(rule: str, teachers: int) -> None:
    gen = torch.Generator().manual_seed(4)
    n, batch, t = 96, 32, 5.0
    zs = torch.randn(n, C, generator=gen)
    zt = [torch.randn(n, C, generator=gen) * (2.0 + 4 * k) for k in range(teachers)]
    y = torch.randint(0, C, (n,), generator=gen)
    know = knowledge_targets(zt, rule, t, batch_size=batch)
    assert torch.allclose(know.targets.sum(dim=1), torch.ones(n), atol=1e-5)
    for start in range(0, n, batch):
        sl = slice(start, start + batch)
        g_raw = _grad(lambda z, sl=sl: kd_loss(z, [x[sl] for x in zt], y[sl], rule, t), zs[sl])
        g_packet = _grad(
            lambda z, sl=sl: weighted_kd_loss(z, know.targets[sl], know.kd_weight[sl], know.ce_weight[sl], y[sl], t),
            zs[sl],
        )
        assert torch.allclose(g_raw, g_packet, atol=1e-6, rtol=1e-4)
        assert g_raw.abs().sum() > 0


def test_knowledge_weights_for_paper_rule() -> None:
    z1 = torch.zeros(4, C)
    z1[:, 0] = 20.0  # very confident at T=5: max prob ~0.86
    z2 = torch.zeros(4, C)  # uniform: max prob 0.1
    know = knowledge_targets([z1, z2], "paper", 5.0, batch_size=4)
    assert torch.allclose(know.teacher_weights, torch.tensor([[0.7, 0.3]] * 4))
    # alpha = (a+b)/2 = 0.5, s = a+b = 1
    assert torch.allclose(know.kd_weight, torch.full((4,), 0.5))
    assert torch.allclose(know.ce_weight, torch.full((4,), 0.5))
    p1, p2 = torch.softmax(z1 / 5, -1), torch.softmax(z2 / 5, -1)
    assert torch.allclose(know.targets, 0.7 * p1 + 0.3 * p2, atol=1e-6)
    # both unsure -> no distillation; targets stay a valid distribution
    none = knowledge_targets([z2, z2], "paper", 5.0)
    assert torch.equal(none.kd_weight, torch.zeros(4)) and torch.equal(none.ce_weight, torch.ones(4))
    assert torch.allclose(none.targets.sum(dim=1), torch.ones(4))
    assert len(know.subset([1, 3])) == 2


def test_input_errors() -> None:
    z = torch.zeros(2, C)
    with pytest.raises(ConfigError, match="temperature"):
        kd_loss(z, [z, z], torch.zeros(2, dtype=torch.long), "static", temperature=0.0)
    with pytest.raises(ConfigError, match="same shape"):
        knowledge_targets([z, torch.zeros(3, C)], "static", 5.0)
    with pytest.raises(ConfigError, match="at least one teacher"):
        knowledge_targets([], "static", 5.0)
