"""What a run may do to the folder named by --out: replace an earlier run there (--overwrite),
never anything else the user keeps there, never a folder its owner made read-only, and the
replaced folder keeps its permissions. Real bundled models, a real image, the real CLI."""

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

from visualizer.cli import main
from visualizer.core.errors import OutputError
from visualizer.core.export import check_output_dir

from support import ROOT, digit_attack_artifacts, digit_sample

MODEL = "digits-standard"


def attack(out, *extra, models=(MODEL,)):
    args = ["attack", *[a for m in models for a in ("--model", m)], "--image", str(digit_sample()),
            "--eps", "0.1", "--steps", "2", "--device", "cpu", "--dpi", "72", "--out", str(out), *extra]
    return main(args)


COMMANDS = {
    "attack": lambda out, *extra: attack(out, *extra),
    "sweep": lambda out, *extra: main(["sweep", "--model", MODEL, "--image", str(digit_sample()), "--rotations", "3",
                                       "--translations", "1", "--device", "cpu", "--dpi", "72", "--out", str(out),
                                       *extra]),
    "saliency": lambda out, *extra: main(["saliency", "--model", MODEL, "--image", str(digit_sample()),
                                          "--device", "cpu", "--dpi", "72", "--out", str(out), *extra]),
}


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_overwrite_never_deletes_the_users_own_files(tmp_path, capsys, command):
    """`--out ~/thesis --overwrite` used to replace the whole folder: the thesis was gone."""
    out = tmp_path / "thesis"
    (out / "chapters").mkdir(parents=True)
    (out / "chapters" / "one.tex").write_text("months of work")
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    assert COMMANDS[command](out, "--overwrite") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "chapters, notes.txt" in err[0], err
    assert "no earlier run" in err[0] and "Choose another folder" in err[0]
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]        # no staging folder left


def test_overwrite_replaces_an_earlier_run_but_not_a_file_put_into_it(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert attack(out, models=(MODEL, "digits-robust")) == 0
    assert attack(out, "--overwrite", models=(MODEL, "digits-robust")) == 0    # an earlier comparison: replaced
    (out / "01-digits-standard" / "my-notes.txt").write_text("what I saw")
    before = snapshot(out)
    capsys.readouterr()
    assert attack(out, "--overwrite") == 2
    assert "01-digits-standard/my-notes.txt" in capsys.readouterr().err
    assert snapshot(out) == before
    (out / "01-digits-standard" / "my-notes.txt").unlink()
    assert attack(out, "--overwrite") == 0                  # a single run over the comparison: nothing of it left
    record = json.loads((out / "result.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(["result.json", *record["files"].values()])


def test_an_evaluations_folder_is_an_earlier_run(tmp_path):
    out = tmp_path / "ev"
    (out / ".evaluation-state").mkdir(parents=True)
    (out / "evaluation.json").write_text(json.dumps({"files": {"per_example": "per_example.csv",
                                                               "table": ["table.png", "table.pdf"]}}))
    for name in ("per_example.csv", "table.png", "table.pdf"):
        (out / name).write_text("x")
    assert check_output_dir(out, overwrite=True) == out
    (out / "table.svg").write_text("not listed")
    with pytest.raises(OutputError, match="holds table.svg"):
        check_output_dir(out, overwrite=True)


def test_the_replaced_folder_keeps_its_permissions(tmp_path):
    out = tmp_path / "shared-run"
    assert attack(out) == 0
    out.chmod(0o2770)                                         # group-shared, setgid: the lab's convention
    mode = stat.S_IMODE(out.stat().st_mode)
    assert attack(out, "--overwrite") == 0
    assert stat.S_IMODE(out.stat().st_mode) == mode


def _without_root_powers():
    """The command prefix that makes a permission check bite: none for a normal user; for
    root, setpriv dropping the capabilities that bypass file permissions."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions cannot be made to apply")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


@pytest.mark.parametrize("empty", [True, False])
def test_a_read_only_folder_is_refused_not_replaced(tmp_path, empty):
    """An empty read-only --out used to be swapped for a new, writable folder of the run."""
    out = tmp_path / "locked"
    if empty:
        out.mkdir()
    else:
        assert attack(out) == 0
    before = snapshot(out)
    out.chmod(0o555)
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([*_without_root_powers(), sys.executable, "-m", "visualizer", "attack", "--model", MODEL,
                               "--image", str(digit_sample()), "--eps", "0.1", "--steps", "1", "--device", "cpu",
                               "--out", str(out), "--overwrite"], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines()[-1] == f"error: {out} is read-only (no write permission); " \
                                                        "choose another folder."
        assert stat.S_IMODE(out.stat().st_mode) == 0o555 and snapshot(out) == before
    finally:
        out.chmod(0o755)


@pytest.mark.parametrize("option", ["--out", "--image"])
def test_an_empty_path_names_the_option(tmp_path, capsys, option):
    """`--out ""` (an unset shell variable) read as the current folder: '. already holds files'."""
    args = {"--out": str(tmp_path / "run"), "--image": str(digit_sample())}
    args[option] = " "
    rc = main(["attack", "--model", MODEL, "--eps", "0.1", "--image", args["--image"], "--out", args["--out"]])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == (f"error: argument {option}: names no file or folder (it is empty). "
                               "See 'visualizer attack --help'.")
    assert list(tmp_path.iterdir()) == []


def test_a_train_or_poison_refused_on_its_data_leaves_no_folder(tmp_path, capsys):
    """The data are read after --out is made: a typo in --data left an empty folder behind."""
    from mnist_support import MNIST_DIR, MNIST_SPEC

    if not MNIST_DIR.is_dir():
        pytest.skip("needs the MNIST files")
    out = tmp_path / "new" / "runs" / "a"           # mkdir -p made new/ and new/runs/ too: they stayed
    cases = [(["train", "--data", f"mnist:{tmp_path / 'mnst'}", "--arch", "mnist-cnn"], "does not exist"),
             (["train", "--data", f"fashion-mnist:{MNIST_DIR}", "--arch", "mnist-cnn", "--limit", "64"],
              "read as fashion-mnist"),
             (["poison", "--data", MNIST_SPEC, "--target", "11", "--rates", "0", "--limit", "64"], "out of range")]
    for argv, words in cases:
        assert main([*argv, "--device", "cpu", "--threads", "1", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert words in err[-1] and not (tmp_path / "new").exists(), (argv, err)
    (tmp_path / "new" / "mine").mkdir(parents=True)           # folders the user made stay, with what is in them
    assert main([*cases[0][0], "--device", "cpu", "--out", str(out)]) == 2
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["mine"]
    out.mkdir(parents=True)
    assert main([*cases[0][0], "--device", "cpu", "--out", str(out)]) == 2 and out.is_dir()


def test_a_cancelled_or_failed_export_leaves_no_folder_it_made(tmp_path):
    """An export into a/b/c made a/ and a/b/ before writing; cancelled or refused, they stayed."""
    from visualizer.core.cancel import CancelToken
    from visualizer.core.errors import ExportCancelled
    from visualizer.core.export import drain, iter_write_run
    from visualizer.core.folders import missing_folders, remove_if_empty

    token = CancelToken()
    token.cancel()                                         # a cancel arrives before the first file
    with pytest.raises(ExportCancelled):
        drain(iter_write_run(tmp_path / "a" / "b" / "c", digit_attack_artifacts(), cancel=token))
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a").mkdir()                               # the user's own folder stays
    with pytest.raises(ExportCancelled):
        drain(iter_write_run(tmp_path / "a" / "b" / "c", digit_attack_artifacts(), cancel=token))
    assert [p.name for p in tmp_path.iterdir()] == ["a"] and list((tmp_path / "a").iterdir()) == []
    # the helpers: what mkdir -p makes, deepest first; removal stops at the first folder holding anything
    assert missing_folders(tmp_path / "x" / "y") == [tmp_path / "x" / "y", tmp_path / "x"]
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "kept.txt").write_text("mine")
    remove_if_empty(missing_folders(tmp_path / "x" / "y" / "z") + [tmp_path / "x" / "y", tmp_path / "x"])
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["kept.txt"]


def test_a_training_cancelled_in_its_first_epoch_leaves_no_empty_folder(tmp_path):
    """Each poison rate trains into rate-R/: Ctrl-C in a rate's first epoch left it empty."""
    from mnist_support import MNIST_DIR, MNIST_SPEC
    from visualizer.core.attacks.loop import drive
    from visualizer.core.cancel import CancelToken
    from visualizer.core.training import BatchProgress, TrainConfig, train_steps

    if not MNIST_DIR.is_dir():
        pytest.skip("needs the MNIST files")
    token = CancelToken()
    for out, made in ((tmp_path / "fresh", False), (tmp_path / "mine", True)):
        if made:
            out.mkdir()
        config = TrainConfig(data=MNIST_SPEC, arch="mnist-cnn", out=str(out), limit=256, batch_size=32,
                             eval_limit=10, eval_attack="none")
        result = drive(train_steps(config, device="cpu", cancel=token),
                       lambda e: isinstance(e, BatchProgress) and token.cancel())
        assert result.cancelled and not result.history
        assert out.is_dir() == made                   # removed only where this run made it
