"""The gradient-attack loop on the real bundled ImageNet model and real photos."""

import pytest
import torch
import torch.nn.functional as F

from visualizer.core.attacks import AttackParams, attack_steps, drive, parse_number, run_attack
from visualizer.core.cancel import CancelToken
from visualizer.core.errors import ParameterError, VisualizerError
from visualizer.core.images import preprocess


@pytest.fixture(scope="module")
def batch(lite0, china_image, flower_image):
    """Four real 224 x 224 inputs: two photos and two other crops of them."""
    from visualizer.core.images import image_from_array

    pre = lite0.info.preprocessing
    images = [china_image, flower_image,
              image_from_array(china_image.pixels[:, : china_image.width // 2]),
              image_from_array(flower_image.pixels[flower_image.height // 3:, :])]
    x = torch.cat([preprocess(im, pre)[0] for im in images])
    with torch.no_grad():
        labels = lite0(x).argmax(1)
    return x, labels


# --- parameters -----------------------------------------------------------------------

def test_fraction_epsilons_and_validation():
    assert parse_number("8/255") == pytest.approx(8 / 255)
    assert parse_number("0.5") == 0.5
    with pytest.raises(ParameterError):
        parse_number("eight")
    with pytest.raises(ParameterError):
        parse_number("1/0")
    with pytest.raises(ParameterError, match="exceeds"):
        AttackParams(norm="linf", eps=8)
    AttackParams(norm="l2", eps=8)                        # L2 budgets above 1 are normal
    for bad in (dict(eps=0), dict(eps=-0.1), dict(steps=0), dict(restarts=0), dict(step_size=-1),
                dict(method="fgsm", norm="l2"), dict(norm="l3"), dict(method="cw")):
        with pytest.raises(ParameterError):
            AttackParams(**bad)
    assert AttackParams(eps=0.1, steps=10).resolved().step_size == pytest.approx(0.025)
    assert any("larger than epsilon" in w for w in AttackParams(eps=0.01, step_size=0.1).warnings())


# --- norms and budgets ----------------------------------------------------------------

@pytest.mark.parametrize("norm,eps", [("linf", 2 / 255), ("l2", 0.5)])
def test_norm_bounds_hold_and_budget_is_used(lite0, batch, norm, eps):
    x, y = batch
    res = run_attack(lite0, x, y, AttackParams(norm=norm, eps=eps, steps=5, random_start=True, seed=3))
    delta = res.adversarial - x
    assert res.adversarial.min() >= 0 and res.adversarial.max() <= 1
    if norm == "linf":
        per_image = delta.flatten(1).abs().amax(1)
        assert torch.all(per_image <= eps + 1e-6)
        assert torch.all(per_image >= 0.9 * eps)
    else:
        per_image = delta.flatten(1).norm(dim=1)
        assert torch.all(per_image <= eps * (1 + 1e-5))
        assert torch.all(per_image >= 0.5 * eps)
    assert res.history_loss.shape == (6, 4)


def test_pgd_is_at_least_as_strong_as_fgsm_and_sometimes_strictly(lite0, batch):
    x, y = batch
    eps = 0.15 / 255      # small enough that one step falls short on one of the photos
    fgsm = run_attack(lite0, x, y, AttackParams(method="fgsm", eps=eps))
    pgd = run_attack(lite0, x, y, AttackParams(method="pgd", eps=eps, steps=10))
    assert torch.all(pgd.loss >= fgsm.loss - 1e-5), (pgd.loss, fgsm.loss)
    only_pgd = pgd.success & ~fgsm.success
    assert only_pgd.any(), (pgd.success, fgsm.success)
    assert fgsm.iterates == 2     # the clean point and the one step


def test_targeted_attack_reaches_a_class_outside_the_clean_top5(lite0, batch):
    x, y = batch
    x, y = x[:1], y[:1]
    with torch.no_grad():
        top5 = lite0(x).topk(5).indices[0].tolist()
    target = 1                                            # 'goldfish', nowhere near a palace
    assert target not in top5
    res = run_attack(lite0, x, y, AttackParams(eps=4 / 255, steps=50, targeted=True, early_stop=True),
                     targets=torch.tensor([target]))
    with torch.no_grad():
        assert int(lite0(res.adversarial).argmax()) == target
    assert bool(res.success[0]) and res.iterates <= 51


def reference_pgd_linf(model, x, y, eps, alpha, steps):
    """Textbook PGD (Madry et al.) written independently of the engine."""
    adv = x.clone()
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = F.cross_entropy(model(adv), y)
        (g,) = torch.autograd.grad(loss, adv)
        adv = adv.detach() + alpha * g.sign()
        adv = (x + (adv - x).clamp(-eps, eps)).clamp(0, 1)
    return adv


def reference_pgd_l2(model, x, y, eps, alpha, steps):
    adv = x.clone()
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = F.cross_entropy(model(adv), y)
        (g,) = torch.autograd.grad(loss, adv)
        g_norm = g.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        adv = adv.detach() + alpha * g / g_norm.clamp_min(1e-12)
        d = adv - x
        d_norm = d.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        adv = (x + d * (eps / d_norm.clamp_min(1e-12)).clamp(max=1.0)).clamp(0, 1)
    return adv


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_matches_an_independent_reference(lite0, batch, norm):
    x, y = batch
    eps, steps = (4 / 255, 5) if norm == "linf" else (1.0, 5)
    alpha = 2.5 * eps / steps
    ours = run_attack(lite0, x, y, AttackParams(norm=norm, eps=eps, steps=steps, best_iterate=False)).adversarial
    ref = (reference_pgd_linf if norm == "linf" else reference_pgd_l2)(lite0, x, y, eps, alpha, steps)
    close = (ours - ref).abs() <= 1e-5
    assert close.float().mean() >= 0.999, close.float().mean()


def assert_best_iterate(res):
    """The returned iterate was evaluated; where the attack failed throughout, it is the one
    with the highest loss (successful iterates rank first, whatever their loss)."""
    hist = res.history_loss
    for i in range(hist.shape[1]):
        assert torch.isclose(hist[:, i], res.loss[i]).any()
        if not res.success[i]:
            assert torch.isclose(res.loss[i], hist[:, i].max())


# --- progress, cancel, warnings ---------------------------------------------------------

def test_progress_events_and_cancellation_keep_the_best_so_far(lite0, batch):
    x, y = batch
    token = CancelToken()
    gen = attack_steps(lite0, x[:2], y[:2], AttackParams(eps=1 / 255, steps=50), cancel=token, report_images=True)
    events = []
    for event in gen:
        events.append(event)
        if event.step == 3:
            token.cancel()
            break
    res = drive(gen)
    assert res.cancelled and res.iterates == 4 and res.history_loss.shape == (4, 2)
    assert [e.step for e in events] == [0, 1, 2, 3]
    assert events[0].adversarial is not None and events[0].topk_prob.shape == (2, 5)
    assert_best_iterate(res)
    assert (res.adversarial - x[:2]).abs().max() <= 1 / 255 + 1e-6


def test_zero_gradient_is_reported_not_hidden():
    class Quantised(torch.nn.Module):
        """A classifier that rounds its input: its gradient is zero everywhere."""

        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(12, 3)

        def forward(self, x):
            return self.fc(torch.round(x * 4).flatten(1))

    torch.manual_seed(0)
    model = Quantised()
    x = torch.rand(2, 3, 2, 2)
    y = model(x).argmax(1)
    for norm in ("linf", "l2"):
        res = run_attack(model, x, y, AttackParams(norm=norm, eps=0.1, steps=3))
        assert any("gradient was exactly zero" in w for w in res.warnings)
        assert torch.isfinite(res.adversarial).all()


def test_wrong_output_shape_gives_a_clear_error():
    class Flat(torch.nn.Module):
        def forward(self, x):
            return x.mean()

    with pytest.raises(VisualizerError, match="logits of shape"):
        run_attack(Flat(), torch.rand(2, 3, 4, 4), torch.tensor([0, 1]), AttackParams())


def test_restarts_keep_the_best_and_are_seeded(lite0, batch):
    x, y = batch
    p = AttackParams(eps=0.5 / 255, steps=2, random_start=True, restarts=2, seed=11)
    a = run_attack(lite0, x[:2], y[:2], p)
    b = run_attack(lite0, x[:2], y[:2], p)
    assert torch.equal(a.adversarial, b.adversarial)
    assert a.history_loss.shape == (6, 2)
    assert_best_iterate(a)


def test_nan_gradient_entries_count_as_zero_and_only_where_they_occur():
    """One pixel of one image gets a NaN gradient; the attack must treat that entry as zero,
    warn about that image, and step every other entry exactly as on the plain model."""
    from mnist_support import MNIST_SPEC

    from visualizer.core.data import load_dataset
    from visualizer.core.models.registry import LoadOptions, load_model

    model = load_model("mnist-standard", LoadOptions(device="cpu"))
    test = load_dataset(MNIST_SPEC, "test", preprocessing=model.info.preprocessing, limit=4)
    x, y = test.batch(torch.arange(4))

    class NanAtOnePixel(torch.nn.Module):
        """Same logits as ``model``; d(logits)/d(x[0, 0, 0, 0]) is NaN (0 * inf through sqrt)."""

        def forward(self, inputs):
            poisoned = torch.where(inputs[0, 0, 0, 0] > -1, torch.zeros(()), torch.sqrt(inputs[0, 0, 0, 0] - 2))
            bump = torch.zeros(inputs.shape[0], 1)
            bump[0] = poisoned
            return model(inputs) + bump

    for norm, eps in (("linf", 0.1), ("l2", 1.0)):
        params = AttackParams(norm=norm, eps=eps, steps=4, random_start=False, best_iterate=False)
        plain = run_attack(model, x, y, params)
        nan = run_attack(NanAtOnePixel(), x, y, params)
        assert torch.isfinite(nan.adversarial).all()
        assert any("NaN or infinite for image(s) [0]" in w for w in nan.warnings)
        assert torch.equal(nan.adversarial[1:], plain.adversarial[1:])
        if norm == "linf":   # one sign step: every other entry of image 0 moves as on the plain model
            one = AttackParams(norm=norm, eps=eps, steps=1, random_start=False, best_iterate=False)
            plain, nan = run_attack(model, x, y, one), run_attack(NanAtOnePixel(), x, y, one)
            assert nan.adversarial[0, 0, 0, 0] == x[0, 0, 0, 0]
            same = torch.ones_like(x[0], dtype=torch.bool)
            same[0, 0, 0] = False
            assert torch.equal(nan.adversarial[0][same], plain.adversarial[0][same])
            assert not torch.equal(nan.adversarial[0], x[0])


def test_an_l2_budget_as_large_as_the_image_cube_is_flagged():
    """sqrt(1*28*28) = 28 is the largest L2 distance between two MNIST images: eps 28 allows
    any image, which the record must say (the fixed 'very large' threshold was 100)."""
    from mnist_support import MNIST_SPEC

    from visualizer.core.data import load_dataset
    from visualizer.core.models.registry import LoadOptions, load_model

    model = load_model("mnist-standard", LoadOptions(device="cpu"))
    x, y = load_dataset(MNIST_SPEC, "test", preprocessing=model.info.preprocessing, limit=2).batch(torch.arange(2))
    flagged = run_attack(model, x, y, AttackParams(norm="l2", eps=28, steps=1))
    assert any("sqrt(784) = 28" in w and "limits nothing" in w for w in flagged.warnings), flagged.warnings
    fine = run_attack(model, x, y, AttackParams(norm="l2", eps=27, steps=1))
    assert not any("limits nothing" in w or "very large" in w for w in fine.warnings), fine.warnings
