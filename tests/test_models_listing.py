"""`visualizer models` says where the bundled sample images are: the tutorial's commands
name them, and an installed copy keeps them inside the package, not in a checkout."""

from pathlib import Path

from visualizer.cli import main


def test_models_lists_the_sample_folders_that_exist(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(line for line in lines if line.startswith("samples "))
    folder = Path(head.split(None, 1)[1])
    assert (folder / "china.jpg").is_file() and (folder / "mnist" / "3_idx18.png").is_file()
    text = "\n".join(lines)
    assert "digit-3-test705.png" in text and f"MNIST: {folder / 'mnist'}/" in text
