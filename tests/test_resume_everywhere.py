"""--resume means the same in every command that has it (train, evaluate, steal): on a
missing or empty --out there is nothing to continue, so a new run starts there with one
note; a folder holding other files is refused, never written into; and a refusal for
other settings is one short line naming what changed. Real MNIST, tiny runs."""

import pytest

from mnist_fixtures import single_thread  # noqa: F401 (fixture: one torch thread)
from mnist_support import MNIST_DIR, MNIST_SPEC
from visualizer.cli import main

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files in ../shared/data/mnist")

COMMANDS = {
    "train": ["train", "--data", MNIST_SPEC, "--arch", "mnist-cnn", "--limit", "64", "--batch-size", "64",
              "--eval-limit", "20", "--eval-attack", "none", "--device", "cpu", "--threads", "1"],
    "evaluate": ["evaluate", "--model", "mnist-standard", "--data", MNIST_SPEC, "--limit", "8", "--batch-size", "4",
                 "--threat", "clean", "--device", "cpu", "--threads", "1", "--dpi", "72"],
    "steal": ["steal", "--victim", "mnist-standard", "--oracle", "label", "--queries", "20", "--query-data", "noise",
              "--arch", "mnist-cnn", "--test-data", MNIST_SPEC, "--test-limit", "20", "--attack-limit", "5",
              "--attack-steps", "2", "--epochs", "1", "--threads", "1", "--device", "cpu", "--dpi", "72"],
}
RESULT = {"train": "model.json", "evaluate": "evaluation.json", "steal": "steal.json"}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("made", [False, True], ids=["missing folder", "empty folder"])
def test_resume_with_nothing_to_resume_starts_a_new_run_with_one_note(command, made, tmp_path, capsys):
    out = tmp_path / "run"
    if made:
        out.mkdir()
    assert main([*COMMANDS[command], "--out", str(out), "--resume"]) == 0, capsys.readouterr().err
    notes = [line for line in capsys.readouterr().err.splitlines() if "nothing to resume" in line]
    assert notes == [f"note: nothing to resume in {out}; starting a new run there"]
    assert (out / RESULT[command]).is_file()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_resume_into_a_folder_of_other_files_is_refused_and_they_are_kept(command, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my own work")
    assert main([*COMMANDS[command], "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "to resume" in err[0], err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"] and (out / "notes.txt").read_text() == "my own work"


def test_a_resume_with_other_settings_is_refused_in_one_short_line(tmp_path, capsys):
    out = tmp_path / "eval"
    assert main([*COMMANDS["evaluate"], "--out", str(out)]) == 0
    capsys.readouterr()
    other = [a if a != "mnist-standard" else "mnist-robust" for a in COMMANDS["evaluate"]]
    assert main([*other, "--seed", "3", "--out", str(out), "--resume"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    # The model list with its weights' hashes is named, not quoted; the seed's values are short.
    assert "models" in line and "seed 0 -> 3" in line and len(line) < 200 + len(str(out)), line


@pytest.mark.parametrize("command", ["evaluate", "steal"])
def test_a_finished_run_is_not_called_unfinished(command, tmp_path, capsys):
    """Run again without --resume, a finished run's folder was 'an unfinished evaluation'."""
    out = tmp_path / "run"
    assert main([*COMMANDS[command], "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([*COMMANDS[command], "--out", str(out)]) == 2
    what = {"evaluate": "evaluation", "steal": "steal experiment"}[command]
    assert capsys.readouterr().err.strip() == (f"error: {out} already holds files (a finished {what}); "
                                               "choose another folder.")
