"""The bundled MNIST and Fashion-MNIST models: every trainer card in resources/models is
checked against the weights shipped beside it (clean accuracy on the first 1,000 test images,
and for a robust model PGD-20 at its training threat on the first 100, recomputed here),
against MODEL_CARDS.md, scripts/train_bundled.sh and the README's table, and its `visualizer
evaluate` entries for consistency (their full-size runs are not repeated here). Real weights,
real test images."""

import hashlib
import re
import shlex
from datetime import datetime

import pytest
from mnist_support import one_thread
from support import ROOT, shared_data

from visualizer.cli import build_parser
from visualizer.core.data import load_dataset
from visualizer.core.evaluation import parse_threats
from visualizer.core.evaluation.relations import wilson_interval
from visualizer.core.models import card_evaluations, card_text, model_cards
from visualizer.core.models.bundled import bundled_models, bundled_names, models_dir
from visualizer.core.models.card_checks import binomial_slack, card_checks, held_out_spec
from visualizer.core.models.registry import load_model
from visualizer.core.models.options import LoadOptions
from visualizer.core.training import parse_adversarial

SHIPPED = [(f.name, model_cards.read_card(f.card)) for f in model_cards.card_files(models_dir())]
TRAINER = [(n, c) for n, c in SHIPPED if model_cards.is_trainer_card(c)]
NAMES = [n for n, _ in TRAINER]
MAX_BYTES = 3 * 1024 * 1024


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    with one_thread():
        yield


def test_trainer_cards_are_shipped():
    assert TRAINER, f"no card written by visualizer train in {models_dir()}"
    assert all(n in bundled_names() for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_card_numbers_are_recomputed_from_the_shipped_weights(name):
    card = dict(TRAINER)[name]
    weights = models_dir() / f"{name}.safetensors"
    blob = weights.read_bytes()
    assert len(blob) < MAX_BYTES
    assert hashlib.sha256(blob).hexdigest() == card["weights_sha256"] == card["checks"]["weights_sha256"]
    model = load_model(name, LoadOptions(device="cpu"))
    pre = card["preprocessing"]
    assert model.info.class_names == card["class_names"]
    assert model.input_shape == (pre["channels"], pre["input_size"], pre["input_size"])
    test = load_dataset(held_out_spec(card, str(shared_data(""))), "test")
    recorded = card["checks"]
    measured = card_checks(model, card, test)
    assert set(measured) == {k for k in recorded if k in ("clean", "robust")}
    assert measured["clean"]["images"] == recorded["clean"]["images"] == 1000
    assert abs(measured["clean"]["correct"] - recorded["clean"]["correct"]) <= 1
    # The first 1,000 are a tenth of the test split: within sampling noise of the full number.
    full = card["metrics"]["clean_accuracy"]
    assert abs(measured["clean"]["accuracy"] - full) <= 3 * (full * (1 - full) / 1000) ** 0.5 + 0.005
    if model_cards.threat_model(card) is not None:       # a robust model is checked at its training threat
        assert measured["robust"]["attack"]["eps"] == card["train_eps"]
        assert measured["robust"]["attack"]["norm"] == card["threat_model"]
    if "robust" in recorded:
        m, r = measured["robust"], recorded["robust"]
        assert m["attack"] == r["attack"] and m["images"] == r["images"] == 100
        assert abs(m["correct"] - r["correct"]) <= binomial_slack(r["accuracy"], r["images"])


def test_listing_describes_threat_model_and_accuracy_standard_first():
    entries = {e.name: e for e in bundled_models()}
    for name, card in TRAINER:
        text = entries[name].description
        assert entries[name].available and model_cards.threat_text(card) in text
        assert f"clean {100 * card['metrics']['clean_accuracy']:.1f}%" in text
    order = [n for n in bundled_names() if n in NAMES]
    by_data: dict = {}
    for n in order:
        by_data.setdefault(model_cards.data_kind(dict(TRAINER)[n]), []).append(n)
    for names in by_data.values():     # within a data set: standard, then robust
        robust = [model_cards.threat_model(dict(TRAINER)[n]) is not None for n in names]
        assert robust == sorted(robust)


def test_model_cards_markdown_is_regenerated_from_the_json_cards():
    text = (models_dir() / "MODEL_CARDS.md").read_text(encoding="utf-8")
    assert text == card_text.model_cards_markdown(TRAINER)


def _script_commands() -> list[list[str]]:
    lines = (ROOT / "scripts" / "train_bundled.sh").read_text(encoding="utf-8").splitlines()
    return [shlex.split(line.split("visualizer train", 1)[1].replace("\\", ""))
            for line in lines if "visualizer train" in line and not line.lstrip().startswith("#")]


def _flags(words: list[str]) -> dict:
    return {w: words[i + 1] for i, w in enumerate(words[:-1]) if w.startswith("--")}


@pytest.mark.parametrize("name", NAMES)
def test_train_bundled_sh_reruns_each_cards_recipe(name):
    card = dict(TRAINER)[name]
    recipe = card["recipe"]
    runs = [_flags(words) for words in _script_commands()]
    mine = [f for f in runs if f.get("--out", "").rstrip("/").endswith(f"/{name}")]
    assert len(mine) == 1, f"scripts/train_bundled.sh has no single command writing {name}"
    flags = mine[0]
    assert flags["--data"].split(":")[0] == card["data"]["train"]["kind"]
    assert flags["--arch"] == recipe["arch"]
    assert parse_adversarial(flags["--adversarial"]) == parse_adversarial(recipe["adversarial"])
    assert int(flags["--epochs"]) == recipe["epochs"] and int(flags.get("--seed", 0)) == recipe["seed"]
    assert float(flags.get("--lr", 1e-3)) == recipe["lr"]
    assert float(flags.get("--eps-warmup", 0)) == recipe["eps_warmup"]
    assert int(flags.get("--threads", 0)) == card["environment"]["torch_threads"]


def _evaluate_args(command: str):
    words = shlex.split(command)
    assert words[:2] == ["visualizer", "evaluate"]
    return build_parser().parse_args(words[1:])


@pytest.mark.parametrize("name", NAMES)
def test_card_evaluations_are_whole_and_their_commands_parse(name):
    """Each card quotes `visualizer evaluate` results (PGD-40 or stronger at its headline
    threat); every entry's numbers agree with each other and its command runs as written."""
    card = dict(TRAINER)[name]
    entries = card.get("evaluations")
    assert entries, f"{name}'s card has no evaluations (scripts/bundle_models.py --evaluation FILE)"
    test_size = card["data"]["test"]["size"]
    for e in entries:
        assert set(e) == set(card_evaluations.ENTRY_KEYS)
        args = _evaluate_args(e["command"])
        assert args.command == "evaluate" and name in args.model
        assert args.data == e["data"] and args.split == e["split"] and args.threads == 1
        (threat,) = [t for t in parse_threats(args.threat) if t.text == e["threat"]]
        assert [a.text for a in threat.attacks] == [a["spec"] for a in e["attacks"]]
        assert e["requested"] == (args.limit or test_size) and 0 < e["n"] <= e["requested"]
        assert e["complete"] == (e["n"] == e["requested"]) and e["split_size"] == test_size
        assert 0 <= e["correct"] <= e["n"] and e["accuracy"] == pytest.approx(e["correct"] / e["n"])
        assert e["ci95"] == pytest.approx(list(wilson_interval(e["correct"], e["n"])))
        assert datetime.fromisoformat(e["date"]).year >= 2026 and e["wall_time_s"] >= 0
    assert card["evaluation_notes"] == card_evaluations.masking_notes(entries)
    headline = card_text.robust_cell(card)
    assert "PGD-" in headline and "starts" in headline, f"{name} has no evaluate PGD at its threat: {headline}"
    assert all(int(step) >= 40 for step in re.findall(r"PGD-(\d+)", headline))


def test_readme_bundled_table_is_the_cards():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in card_text.table_header() + [card_text.table_row(n, c) for n, c in TRAINER]:
        assert line in readme, f"README.md's bundled-model table is out of date: {line}"
