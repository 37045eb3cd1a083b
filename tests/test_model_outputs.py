"""Models that are not plain logit functions, as real TorchScript archives built from tiny real
networks and loaded through the registry: a final softmax or log-softmax (the confidences
reported are the model's own, and attacks get the gradient of the usual cross-entropy), and
networks that are not deterministic functions (traced in training mode)."""

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from support import digit_sample
from visualizer.cli import main
from visualizer.core.errors import ModelLoadError
from visualizer.core.images import load_image, preprocess
from visualizer.core.models.registry import LoadOptions, load_model

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
SIZE = 16


class Logits(nn.Module):
    """A small CNN whose logits are spread far enough apart for a confident top class."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        return self.logits(x)

    def logits(self, x):
        return 40 * self.fc(F.relu(self.conv(x)).mean(dim=(2, 3)))


class Softmaxed(Logits):
    def forward(self, x):
        return self.logits(x).softmax(dim=1)


class LogSoftmaxed(Logits):
    def forward(self, x):
        return self.logits(x).log_softmax(dim=1)


def archive(tmp_path, net, name, trace=False):
    path = tmp_path / f"{name}.pt"
    x = torch.rand(2, 3, SIZE, SIZE)
    exported = torch.jit.trace(net, x, check_trace=False) if trace else torch.jit.script(net)
    exported.save(str(path))
    return f"torchscript:{path}"


def load(spec, **kw):
    return load_model(spec, LoadOptions(input_size=SIZE, device="cpu", **kw))


def images(n=6):
    return torch.rand(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("head, own_probabilities, kind", [
    (Softmaxed, lambda out: out, "probabilities"),
    (LogSoftmaxed, lambda out: out.exp(), "log-probabilities"),
])
def test_confidences_are_the_models_own(tmp_path, head, own_probabilities, kind):
    net = head().eval()
    model = load(archive(tmp_path, net, kind))
    x = images()
    with torch.no_grad():
        own = own_probabilities(net(x))
        shown = model(x).softmax(dim=1)
    assert own.max() > 0.9                     # a confident model, so a second softmax would show
    torch.testing.assert_close(shown, own, rtol=1e-5, atol=1e-6)
    assert model.info.outputs == kind and model.info.to_dict()["outputs"] == kind


def test_attacks_get_the_gradient_of_the_usual_cross_entropy(tmp_path):
    """The softmax-headed export and the plain logits network it came from are attacked alike."""
    plain = load(archive(tmp_path, Logits().eval(), "plain"))
    soft = load(archive(tmp_path, Softmaxed().eval(), "soft"))
    x, y = images(), torch.tensor([0, 1, 2, 3, 4, 0])
    grads = []
    for model in (plain, soft):
        xi = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(xi), y)
        grads.append(torch.autograd.grad(loss, xi)[0])
        assert loss.item() == pytest.approx(F.cross_entropy(plain(x), y).item(), rel=1e-4)
    assert grads[0].abs().max() > 0
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-3, atol=1e-7)


def test_result_json_reports_the_models_own_confidence(tmp_path, capsys):
    net = Softmaxed().eval()
    spec = archive(tmp_path, net, "soft")
    out = tmp_path / "run"
    rc = main(["attack", "--model", spec, "--input-size", str(SIZE), "--image", str(digit_sample()),
               "--eps", "2/255", "--steps", "2", "--device", "cpu", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    record = json.loads((out / "result.json").read_text())
    assert record["model"]["outputs"] == "probabilities" and record["model"]["deterministic"] is True
    model = load(spec)
    x, _ = preprocess(load_image(digit_sample()), model.info.preprocessing)
    with torch.no_grad():
        own = net(x)[0]
    top = record["clean"]["top5"][0]
    assert top["prob"] == pytest.approx(float(own.max()), rel=1e-5) and top["class"] == int(own.argmax())


def test_a_saturated_softmax_is_a_warning(tmp_path):
    class Saturated(Logits):
        def forward(self, x):
            return (1e4 * self.logits(x)).softmax(dim=1)

    model = load(archive(tmp_path, Saturated().eval(), "saturated"))
    assert model.info.outputs == "probabilities"
    assert any(n.startswith("Warning:") and "saturated" in n for n in model.info.notes)
    assert torch.isfinite(model(images())).all()     # log(0) is clamped, not -inf


# -- not deterministic -------------------------------------------------------------------------------


class WithDropout(Logits):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.fc(self.drop(F.relu(self.conv(x)).mean(dim=(2, 3))))


class WithBatchNorm(Logits):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.fc(F.relu(self.bn(self.conv(x))).mean(dim=(2, 3)))


def nondeterminism_warning(model):
    found = [n for n in model.info.notes if n.startswith("Warning: the model is not a deterministic function")]
    assert len(found) == 1, model.info.notes
    assert "model.eval()" in found[0]
    return found[0]


def test_dropout_traced_in_training_mode_is_flagged(tmp_path):
    model = load(archive(tmp_path, WithDropout().train(), "dropout", trace=True))
    assert model.info.deterministic is False and model.info.to_dict()["deterministic"] is False
    assert "two forward passes on the same images gave different outputs" in nondeterminism_warning(model)
    x = images()
    with torch.no_grad():
        assert not torch.equal(model(x), model(x))   # what the warning is about


def test_batch_norm_traced_in_training_mode_is_flagged_and_loading_leaves_it_unchanged(tmp_path):
    spec = archive(tmp_path, WithBatchNorm().train(), "bn", trace=True)
    model = load(spec)
    warning = nondeterminism_warning(model)
    assert "changes its own state" in warning and "depends on the other images in its batch" in warning
    fresh = torch.jit.load(spec.split(":", 1)[1])
    for (name, mine), (_, theirs) in zip(model.net.named_buffers(), fresh.named_buffers()):
        assert torch.equal(mine, theirs), name     # the load-time checks restored the statistics


def test_a_network_that_cannot_classify_one_image_alone_is_refused(tmp_path):
    class AlwaysBatchStatistics(Logits):
        def forward(self, x):
            pooled = F.relu(self.conv(x)).mean(dim=(2, 3))
            return self.fc(F.batch_norm(pooled, None, None, training=True))

    with pytest.raises(ModelLoadError, match="fails on a single image.*model.eval"):
        load(archive(tmp_path, AlwaysBatchStatistics(), "batch-stats"))


@pytest.mark.parametrize("net", [WithDropout, WithBatchNorm])
def test_scripted_in_training_mode_is_switched_to_eval_and_noted(tmp_path, net):
    model = load(archive(tmp_path, net().train(), "scripted"))
    assert model.info.deterministic is True
    assert not any(n.startswith("Warning") for n in model.info.notes)
    assert any("saved in training mode" in n for n in model.info.notes)


def test_nondeterminism_reaches_the_cli_and_result_json(tmp_path, capsys):
    spec = archive(tmp_path, WithDropout().train(), "dropout", trace=True)
    out = tmp_path / "sweep"
    rc = main(["sweep", "--model", spec, "--input-size", str(SIZE), "--image", str(digit_sample()),
               "--rotations", "3", "--translations", "1", "--device", "cpu", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "warning: torchscript:" in err and "not a deterministic function" in err
    record = json.loads((out / "result.json").read_text())
    assert record["model"]["deterministic"] is False
    assert any("not a deterministic function" in w for w in record["warnings"])
