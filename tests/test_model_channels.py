"""The input channel count is explicit: --channels, or what the source or the network's first
convolution says. One --mean/--std value serves every channel instead of silently making the
model one-channel, and a channel mismatch is reported as what it is."""

import pytest
import torch
from torch import nn

from support import digit_sample
from visualizer.cli import main
from visualizer.core.errors import ModelLoadError, ParameterError
from visualizer.core.models.common import apply_overrides
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.models.wrapper import Preprocessing

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
SIZE = 12


class Conv(nn.Module):
    def __init__(self, channels):
        super().__init__()
        torch.manual_seed(channels)
        self.conv = nn.Conv2d(channels, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))


class Flat(nn.Module):
    """No convolution: nothing in the network tells its channel count."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(SIZE * SIZE, 3)

    def forward(self, x):
        return self.fc(x.flatten(1))


def archive(tmp_path, net, name):
    path = tmp_path / f"{name}.pt"
    torch.jit.script(net.eval()).save(str(path))
    return f"torchscript:{path}"


def load(spec, **kw):
    return load_model(spec, LoadOptions(input_size=SIZE, device="cpu", **kw))


def test_one_mean_and_std_value_serve_every_channel_of_an_rgb_model(tmp_path):
    net = Conv(3)
    model = load(archive(tmp_path, net, "rgb"), mean=(0.5,), std=(0.25,))
    pre = model.info.preprocessing
    assert (pre.channels, pre.mean, pre.std) == (3, (0.5,) * 3, (0.25,) * 3)
    x = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        torch.testing.assert_close(model(x), net((x - 0.5) / 0.25))


def test_a_grayscale_model_is_read_as_one_channel(tmp_path):
    model = load(archive(tmp_path, Conv(1), "grey"), mean=(0.1307,), std=(0.3081,))
    assert model.info.preprocessing.channels == 1 and model.input_shape == (1, SIZE, SIZE)
    assert any("1 channel (read from its first convolution)" in n for n in model.info.notes)


def test_channels_given_explicitly_when_the_network_cannot_tell(tmp_path):
    spec = archive(tmp_path, Flat(), "flat")
    with pytest.raises(ModelLoadError, match="--channels"):
        load(spec)                                   # 3 x 12 x 12 values do not fit its 144 inputs
    model = load(spec, channels=1)
    assert model.input_shape == (1, SIZE, SIZE)
    assert any("1 channel (given)" in n for n in model.info.notes)


def test_a_channel_mismatch_names_the_real_cause(tmp_path):
    with pytest.raises(ModelLoadError, match=r"takes 3-channel images but was given 1-channel ones\. Pass --channels 3"):
        load(archive(tmp_path, Conv(3), "rgb"), channels=1)
    with pytest.raises(ParameterError, match="--mean has 3 values, but the model takes 1-channel images"):
        load(archive(tmp_path, Conv(1), "grey"), mean=(0.5, 0.4, 0.3))


def test_bundled_models_keep_their_channels_and_take_one_value(tmp_path):
    model = load_model("digits-standard", LoadOptions(device="cpu", mean=(0.5,), std=(0.5,)))
    assert model.info.preprocessing.channels == 1 and model.info.preprocessing.mean == (0.5,)
    with pytest.raises(ModelLoadError, match="takes 3-channel images but was given 1-channel ones"):
        load_model("lite0-imagenet", LoadOptions(device="cpu", channels=1))
    # ImageNet statistics are per RGB channel: they mean nothing for one channel.
    with pytest.raises(ParameterError, match="per channel for 3 channels; with --channels 1 give --mean"):
        apply_overrides(Preprocessing.imagenet_default(), LoadOptions(channels=1))


def test_the_cli_reports_a_channel_mismatch_in_one_line(tmp_path, capsys):
    spec = archive(tmp_path, Conv(3), "rgb")
    rc = main(["sweep", "--model", spec, "--channels", "1", "--input-size", str(SIZE), "--image",
               str(digit_sample()), "--rotations", "3", "--translations", "1", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "takes 3-channel images" in err[0] and "--input-size" not in err[0]
