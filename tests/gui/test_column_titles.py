"""Model columns are titled by the model's display name, as figures and transfer ids name
it: a trained model or stolen copy (a trainer folder's model.safetensors) by its folder,
not by its whole path elided to '…/model.safetensors'; the whole id stays in the tooltip."""

import shutil
from pathlib import Path

from window_support import add_model

from visualizer.core.evaluation.presentation import display_names

WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "models" / "mnist-standard.safetensors"


def test_display_names_name_trainer_folders_by_the_folder():
    assert display_names(["ckpt:/runs/steal/substitute-200/model.safetensors", "mnist-standard"]) == [
        "substitute-200", "mnist-standard"]
    assert display_names(["ckpt:/a/copy/model.safetensors", "ckpt:/b/copy/model.safetensors"]) == [
        "a/copy", "b/copy"]
    assert display_names(["ckpt:/w/cifar.pt"]) == ["cifar.pt"]


def test_checkpoint_columns_show_the_folder_name_and_keep_the_path_in_the_tooltip(qtbot, window, tmp_path):
    specs = []
    for name in ("first-run", "second-run"):
        (tmp_path / name).mkdir()
        shutil.copy(WEIGHTS, tmp_path / name / "model.safetensors")
        specs.append(f"ckpt:{tmp_path / name / 'model.safetensors'}")
    add_model(qtbot, window, specs[0], {"device": "cpu", "arch": "mnist-cnn"})
    attack = window.workspace("attack")
    [entry] = window.state.models
    title = attack.view(entry).title_label
    assert title.text() == "first-run" and str(tmp_path / "first-run") in title.toolTip()
    add_model(qtbot, window, specs[1], {"device": "cpu", "arch": "mnist-cnn"})
    assert [attack.view(e).title_label.text() for e in window.state.models] == ["first-run", "second-run"]
    window.model_list.setCurrentRow(0)
    window.remove_selected_model()
    assert attack.view(window.state.models[0]).title_label.text() == "second-run"
