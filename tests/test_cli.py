"""The command line end to end: real bundled models, real images, outputs validated against
the committed JSON Schema."""

import json
import subprocess
import sys

import jsonschema
import numpy as np
import pytest
import torch
from PIL import Image

from visualizer.cli import main
from visualizer.core.schema import result_schema

from support import digit_sample, sklearn_sample


def validate(out_dir):
    record = json.loads((out_dir / "result.json").read_text())
    jsonschema.validate(record, result_schema())
    for name in record["files"].values():
        assert (out_dir / name).stat().st_size > 0, name
    return record


def test_attack_end_to_end_writes_valid_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["attack", "--model", "lite0-imagenet", "--image", str(sklearn_sample("china.jpg")), "--attack", "pgd",
               "--eps", "1/255", "--steps", "3", "--device", "cpu", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    rec = validate(out)
    assert rec["kind"] == "attack" and rec["model"]["id"] == "lite0-imagenet"
    assert rec["label"] == {"class": rec["clean"]["top5"][0]["class"], "label": "palace", "source": "predicted"}
    assert rec["parameters"]["step_size"] == pytest.approx(2.5 * (1 / 255) / 3)
    assert rec["perturbation"]["linf"] <= 1 / 255 + 1e-6
    assert rec["perturbation"]["linf_quantized"] <= 1 / 255
    assert len(rec["history"]["loss"]) == 4
    assert len(rec["image"]["sha256"]) == 64 and rec["model"]["weights_sha256"]
    # adversarial.npy is exactly the saved PNG that "top5_quantized" describes; the float result is kept apart.
    png = np.asarray(Image.open(out / "adversarial.png"), dtype=np.float32) / np.float32(255)
    adv = np.load(out / "adversarial.npy")
    assert png.shape == (224, 224, 3) and adv.shape == (3, 224, 224) and adv.dtype == np.float32
    np.testing.assert_array_equal(png.transpose(2, 0, 1), adv)
    assert np.load(out / "adversarial_float.npy").shape == (3, 224, 224)
    assert (out / "figure.pdf").read_bytes().startswith(b"%PDF")
    assert b"<svg" in (out / "figure.svg").read_bytes()[:2000]
    # Refuses to overwrite without --overwrite, and says so in one line.
    rc = main(["attack", "--model", "lite0-imagenet", "--image", str(sklearn_sample("china.jpg")),
               "--eps", "1/255", "--steps", "1", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and [line for line in err if line.startswith("error:")] == err[-1:] and "overwrite" in err[-1]


@pytest.mark.parametrize("photo,norm,eps", [("china.jpg", "linf", "1/255"), ("flower.jpg", "l2", "0.5"),
                                            ("flower.jpg", "linf", "3/510"), ("china.jpg", "linf", "1/510")])  # 1.5/255, 0.5/255
def test_saved_adversarial_is_inside_eps_and_scored_as_saved(tmp_path, capsys, lite0, photo, norm, eps):
    """adversarial.png minus clean.png, read back from the files, is within eps exactly, and the
    reported prediction of the saved image is a fresh prediction on that file (no resizing:
    it is already the model's input)."""
    from visualizer.core.attacks import parse_number
    from visualizer.core.images import load_image

    out = tmp_path / "run"
    rc = main(["attack", "--model", "lite0-imagenet", "--image", str(sklearn_sample(photo)), "--norm", norm,
               "--eps", eps, "--steps", "2", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    line = capsys.readouterr().out.strip()
    rec = validate(out)
    budget = parse_number(eps)
    clean = np.asarray(Image.open(out / "clean.png"), dtype=np.int64)
    moved = np.asarray(Image.open(out / "adversarial.png"), dtype=np.int64) - clean
    size = np.abs(moved).max() if norm == "linf" else np.sqrt((moved ** 2).sum())
    assert size / 255 <= budget, f"the saved image lies {size:.2f}/255 from the clean input, eps is {eps}"
    assert rec["quantization"]["within_budget"] is True
    assert rec["perturbation"]["linf_quantized"] == pytest.approx(np.abs(moved).max() / 255, abs=1e-9)
    assert rec["perturbation"]["l2_quantized"] == pytest.approx(np.sqrt((moved ** 2).sum()) / 255, rel=1e-9)
    np.testing.assert_array_equal(np.load(out / "clean.npy") * 255, clean.transpose(2, 0, 1))

    x = load_image(out / "adversarial.png").to_tensor()[None]
    with torch.no_grad():
        probs = lite0(x).softmax(1)[0]
    saved = rec["adversarial"]["top5_quantized"]
    assert [e["class"] for e in saved] == probs.topk(5).indices.tolist()
    assert [e["prob"] for e in saved] == pytest.approx(probs.topk(5).values.tolist(), abs=1e-5)
    assert rec["success_quantized"] == (saved[0]["class"] != rec["label"]["class"])
    # The one-line summary reports that image.
    assert f"-> {saved[0]['label']} (p={saved[0]['prob']:.3f})" in line
    assert f"success {rec['success_quantized']}" in line and "saved 8-bit image within eps" in line
    if budget < 1 / 255:   # no 8-bit change fits: the saved image is the clean one, and the user is told
        assert not moved.any() and rec["success_quantized"] is False
        assert any("below one 8-bit level" in w for w in rec["warnings"])


def test_targeted_l2_attack_on_digits(tmp_path, capsys):
    out = tmp_path / "digits"
    rc = main(["attack", "--model", "digits-standard", "--image", str(digit_sample()), "--norm", "l2",
               "--eps", "2", "--steps", "20", "--target", "8", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    rec = validate(out)
    assert rec["target"]["class"] == 8 and rec["parameters"]["targeted"] is True
    assert rec["history"]["target_prob"] is not None
    # The loss is minus the target's cross-entropy: negative, rising towards 0, and named so.
    assert rec["history"]["loss_name"] == "\u2212CE(target)" and max(rec["history"]["loss"]) <= 0
    assert rec["perturbation"]["l2"] <= 2 + 1e-4


def test_sweep_end_to_end(tmp_path, capsys):
    out = tmp_path / "sweep"
    rc = main(["sweep", "--model", "digits-robust", "--image", str(digit_sample()), "--rotations", "7",
               "--translations", "3", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    rec = validate(out)
    s = rec["sweep"]
    assert len(s["rotations"]) == 7 and len(s["translations_x"]) == 3 and len(s["translations_y"]) == 3
    assert np.array(s["grid_true_prob"]).shape == (7, 3, 3) and np.array(s["grid_pred"]).shape == (7, 3, 3)
    assert s["evaluated"] == 63
    assert np.load(out / "true_prob.npy").shape == (7, 3, 3)


def test_saliency_of_two_models_on_one_scale(tmp_path, capsys):
    out = tmp_path / "sal"
    rc = main(["saliency", "--model", "digits-standard", "--model", "digits-robust", "--image", str(digit_sample()),
               "--method", "smoothgrad", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    rec = validate(out)
    maps = rec["saliency"]["maps"]
    assert [m["model"] for m in maps] == ["digits-standard", "digits-robust"]
    scale = rec["saliency"]["shared_scale"]
    assert scale >= max(m["own_scale"] for m in maps) * 0.999 or scale > 0
    # An 8 x 8 scan seen by 32 px models: the shared grid is 4x finer than the file, so
    # the maps keep the models' full resolution.
    gs = rec["saliency"]["grid_scale"]
    assert gs == 4
    a = np.load(out / maps[0]["file"])
    assert a.shape == (rec["image"]["height"] * gs, rec["image"]["width"] * gs)
    assert np.load(out / "image.npy").shape == (3, 8 * gs, 8 * gs)


@pytest.mark.parametrize("argv,needle", [
    (["attack", "--model", "lite0-imagenet", "--image", "MISSING.png", "--eps", "1/255"], "MISSING.png"),
    (["attack", "--model", "nosuch-model", "--image", "{china}", "--eps", "1/255"], "nosuch-model"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "2"], "exceeds"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "abc"], "--eps"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "-1"], "positive"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "0"], "positive"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "inf"], "finite"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "1/255", "--step-size", "big"],
     "--step-size"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "1/255", "--label", "cardigan"], "ambiguous"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "1/255", "--target", "unicorn"], "unicorn"),
    (["attack", "--model", "lite0-imagenet", "--image", "{china}", "--eps", "1/255", "--steps", "0"], "Steps"),
    (["sweep", "--model", "lite0-imagenet", "--image", "{china}", "--rotations", "0"], "rotations"),
])
def test_bad_input_exits_nonzero_with_one_line(tmp_path, capsys, argv, needle):
    argv = [a.replace("{china}", str(sklearn_sample("china.jpg"))) for a in argv] + ["--out", str(tmp_path / "x")]
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc != 0
    assert len(err.splitlines()) == 1 and err.startswith("error:") and needle in err, err
    assert not (tmp_path / "x").exists()


def test_models_lists_sources_and_bundled(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for word in ("lite0-imagenet", "digits-standard", "digits-robust", "torchvision:", "timm:", "ckpt:", "torchscript:"):
        assert word in out
    assert "available offline" in out


def test_python_dash_m_and_no_arguments():
    out = subprocess.run([sys.executable, "-m", "visualizer", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "visualizer" in out.stdout


def test_step_size_above_epsilon_is_a_warning_not_a_refusal(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["attack", "--model", "digits-standard", "--image", str(digit_sample()), "--eps", "2/255",
               "--step-size", "0.1", "--steps", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "warning: Step size 0.1 is larger than epsilon" in err
    assert validate(out)["parameters"]["step_size"] == pytest.approx(0.1)


def test_running_out_of_memory_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    import torch

    import visualizer.core.attacks.spatial as spatial

    def no_memory(*args, **kwargs):    # the injected fault: every batch size runs out of memory
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")

    monkeypatch.setattr(spatial, "_evaluate_chunk", no_memory)
    rc = main(["sweep", "--model", "digits-robust", "--image", str(digit_sample()), "--rotations", "7",
               "--translations", "3", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and err[0].startswith("error: Ran out of memory (CUDA out of memory."), err
    assert not (tmp_path / "out").exists()


def test_the_parser_and_help_import_no_torch():
    # Every command builds the whole parser first; data-set help text once pulled in torch,
    # torchvision and Pillow (seconds on a busy machine) before any work began.
    code = ("import sys\nfrom visualizer.cli import build_parser\nbuild_parser()\n"
            "print('HEAVY:' + ','.join(sorted(m for m in ('torch', 'torchvision', 'PIL', 'numpy') if m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("HEAVY:"), out.stdout
