"""What the command line says, as a newcomer reads it: each warning once, one error line
naming the problem and the fix. Real bundled models and images."""

from visualizer.cli import main

from support import digit_sample

PAIR = ("digits-standard", "digits-robust")


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_a_parameter_warning_is_printed_once_for_any_number_of_models(tmp_path, capsys):
    """Printed before the run and again from every model's record: three times for two models."""
    args = ["attack", "--image", str(digit_sample()), "--norm", "l2", "--eps", "200", "--steps", "3",
            "--device", "cpu", "--dpi", "72"]
    for n, out in ((1, "one"), (2, "two")):
        models = [a for m in PAIR[:n] for a in ("--model", m)]
        assert main([*args, *models, "--out", str(tmp_path / out)]) == 0
        assert warnings_of(capsys.readouterr().err) == [
            "warning: An L2 epsilon of 200 is at least the largest L2 distance between two [0, 1] images of this "
            "size (sqrt(1024) = 32): the budget limits nothing."]


def test_a_query_attacks_parameter_warning_is_printed_once(tmp_path, capsys):
    rc = main(["attack", "--model", PAIR[0], "--image", str(digit_sample()), "--attack", "nes", "--oracle", "probs",
               "--queries", "5", "--eps", "0.1", "--device", "cpu", "--dpi", "72", "--out", str(tmp_path / "nes")])
    assert rc == 0
    found = warnings_of(capsys.readouterr().err)
    assert len(found) == len(set(found)) and any("less than one NES step" in w for w in found), found


def test_an_unreadable_labels_file_is_one_plain_sentence(tmp_path, capsys):
    """It read 'Cannot read the labels file x: [Errno 2] No such file or directory: 'x' Give ...'."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(digit_sample().read_bytes())
    expected = {str(tmp_path / "none.txt"): "Cannot read the labels file {}: it does not exist.",
                str(tmp_path): "Cannot read the labels file {}: Is a directory.",
                str(photo): "The labels file {} is not text (UTF-8); it should hold one class name a line."}
    for path, message in expected.items():
        rc = main(["attack", "--model", PAIR[0], "--labels", path, "--image", str(digit_sample()), "--eps", "0.1",
                   "--out", str(tmp_path / "run")])
        [line] = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and line.startswith("error: " + message.format(path) + " Give a labels list"), line


def test_a_sweep_refuses_the_other_modes_options(tmp_path, capsys):
    """--k 50 on the grid, or --rotations 7 on random draws, were ignored without a word."""
    base = ["sweep", "--model", PAIR[0], "--image", str(digit_sample()), "--device", "cpu", "--dpi", "72"]
    for extra, flags in ((["--k", "50"], "--k"), (["--seed", "3", "--k", "4"], "--k and --seed"),
                         (["--mode", "random", "--rotations", "7"], "--rotations"),
                         (["--mode", "random", "--translations", "3"], "--translations")):
        assert main([*base, *extra, "--out", str(tmp_path / "refused")]) == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(f"error: {flags} do") and "not apply to --mode" in line, line
    assert not (tmp_path / "refused").exists()
    assert main([*base, "--mode", "random", "--k", "4", "--seed", "3", "--out", str(tmp_path / "random")]) == 0
    assert main([*base, "--rotations", "3", "--translations", "1", "--out", str(tmp_path / "grid")]) == 0


def test_a_model_given_twice_is_refused_before_anything_loads_or_is_written(tmp_path, capsys):
    """attack, saliency and evaluate compared a repeated --model with itself (evaluate's
    transfer matrix even crafted on it for itself); now one line names the repeat."""
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"not read: refused before loading")
    image = ["--image", str(digit_sample())]
    commands = {
        "attack": ["attack", *image, "--eps", "0.1"],
        "saliency": ["saliency", *image],
        "evaluate": ["evaluate", "--data", f"mnist:{tmp_path}", "--threat", "clean"],
    }
    repeats = {("digits-standard", "digits-standard"): "--model 'digits-standard' is the same model given twice",
               ("digits-standard", "bundled:DIGITS-standard"):
                   "--model 'digits-standard' and 'bundled:DIGITS-standard' are the same model given twice",
               (f"ckpt:{weights}", f"ckpt:{tmp_path}/./w.safetensors"): "are the same model given twice"}
    for name, command in commands.items():
        for (first, second), words in repeats.items():
            out = tmp_path / f"{name}-out"
            rc = main([*command, "--model", first, "--model", "digits-robust", "--model", second, "--out", str(out)])
            [line] = capsys.readouterr().err.strip().splitlines()
            assert rc == 2 and line.startswith("error: ") and words in line, (name, line)
            assert not out.exists()


def test_a_misspelt_data_set_kind_is_answered_with_the_spec_meant(tmp_path, capsys):
    rc = main(["evaluate", "--model", PAIR[0], "--data", f"mnsit:{tmp_path}", "--threat", "clean",
               "--out", str(tmp_path / "out")])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and line.endswith(f"Did you mean: mnist:{tmp_path}?") and not (tmp_path / "out").exists(), line


def test_a_translation_beyond_the_models_input_is_refused_wherever_it_is_given(tmp_path, capsys):
    """`sweep --max-translation 100` on a 32 px digits model ran and wrote a sweep of empty frames;
    evaluate's spatial:grid threat did the same. One line, no folder."""
    sweep = ["sweep", "--model", PAIR[0], "--image", str(digit_sample()), "--device", "cpu",
             "--max-translation", "100", "--out", str(tmp_path / "sweep")]
    evaluate = ["evaluate", "--model", PAIR[0], "--data", f"mnist:{tmp_path}", "--threat", "spatial:grid:30:3:32:3",
                "--out", str(tmp_path / "evaluate")]
    for argv, start in ((sweep, "error: A maximum translation of 100 px"),
                        (evaluate, "error: spatial:grid:30:3:32:3: A maximum translation of 32 px")):
        assert main(argv) == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(start) and "digits-standard's input (32 x 32 px)" in line, line
        assert not (tmp_path / argv[-1]).exists()
    assert main([*sweep[:-4], "--max-translation", "31", "--rotations", "1", "--translations", "2",
                 "--dpi", "72", "--out", str(tmp_path / "fits")]) == 0
