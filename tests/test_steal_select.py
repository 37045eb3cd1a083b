"""`visualizer steal --query-select uncertainty`: after the first query count, the thief asks
the pool images its substitute of the count before is least sure of (ActiveThief). Real
MNIST, the bundled victim and tiny real copies; no mocks."""

import pytest
import torch

from mnist_fixtures import single_thread  # noqa: F401 (fixture)
from mnist_support import MNIST_DIR, MNIST_SPEC, as_classifier, train_tiny_mnist
from visualizer.cli import main
from visualizer.core.attacks.loop import drive
from visualizer.core.data import load_dataset
from visualizer.core.errors import ParameterError
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.stealing import StealConfig, run_steal
from visualizer.core.stealing.queries import first_images
from visualizer.core.stealing.select import asked_mask, least_sure, top2_margin

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs MNIST in ../shared/data")


@pytest.fixture(scope="module")
def victim():
    return load_model("mnist-standard", LoadOptions(device="cpu"))


def test_a_blend_of_two_digits_is_less_sure_than_either_digit(victim):
    digits = first_images(MNIST_SPEC, 40, victim.info.preprocessing)
    with torch.no_grad():
        labels = victim(digits).argmax(1)
    a, b = digits[:20], digits[20:]
    other = labels[:20] != labels[20:]
    blends = 0.5 * a + 0.5 * b
    clean, mixed = top2_margin(victim, digits), top2_margin(victim, blends)
    assert clean.shape == (40,) and bool(((0 <= clean) & (clean <= 1)).all())
    assert clean.median() > 0.95                                    # a standard model is sure of real digits
    assert mixed[other].median() < 0.7 and mixed[other].mean() < clean.mean() - 0.3    # nor of two at once


def test_least_sure_skips_what_was_asked_and_takes_the_smallest_margins(victim):
    pool = first_images(MNIST_SPEC, 300, victim.info.preprocessing)
    pool[250:] = 0.5 * pool[250:] + 0.5 * pool[:50]                 # 50 ambiguous images at the end
    asked = asked_mask(pool, torch.cat([pool[10:20], pool[260:270]]))
    assert asked.sum() == 20 and asked[10:20].all() and asked[260:270].all()
    chosen = least_sure(victim, pool, asked, 30)
    assert len(set(chosen.tolist())) == 30 and not asked[chosen].any()
    margin = top2_margin(victim, pool)
    left = margin[~asked]
    assert torch.equal(margin[chosen].sort().values, left.sort().values[:30])
    assert (chosen >= 250).float().mean() > 0.6                     # mostly the blends
    with pytest.raises(ParameterError, match="larger --pool"):
        least_sure(victim, pool, asked, 281)


@pytest.mark.parametrize("fields, words", [
    (dict(query_select="random"), "order or uncertainty"),
    (dict(query_select="uncertainty", query_data="noise"), "has none"),
    (dict(query_select="uncertainty", query_data="jacobian"), "has none"),
    (dict(query_select="uncertainty", adversarial_queries=0.5), "use one of them"),
    (dict(query_select="uncertainty", pool=100), "not larger than the largest query count 200"),
    (dict(query_select="uncertainty", pool=200), "not larger than the largest query count 200"),
    (dict(pool=1000), "leave --pool out"),
    (dict(query_select="uncertainty", pool=-5), "whole number"),
    (dict(query_select="uncertainty", queries=(200,)), "two or more counts"),
    (dict(query_select="uncertainty", copy_specs=("epochs=2", "pseudo=500")), "use one of them"),
])
def test_bad_selection_settings_are_refused_in_one_line(fields, words):
    settings = dict(query_data=MNIST_SPEC, queries=(100, 200)) | fields
    query_data, queries = settings.pop("query_data"), settings.pop("queries")
    with pytest.raises(ParameterError, match=words) as caught:
        StealConfig("v", "label", queries, query_data, "mnist-cnn", MNIST_SPEC, "o", **settings)
    assert len(str(caught.value).splitlines()) == 1


def test_each_later_count_asks_the_pool_images_the_count_befores_copy_is_least_sure_of(tmp_path):
    from visualizer.core.stealing.run import _load_substitute
    from visualizer.core.stealing.store import StealStore

    victim = as_classifier(train_tiny_mnist(), "tiny-victim")
    test = load_dataset(MNIST_SPEC, "test", preprocessing=victim.info.preprocessing, limit=60)
    config = StealConfig("tiny-victim", "label", (40, 70, 100), MNIST_SPEC, "mnist-cnn", MNIST_SPEC, str(tmp_path),
                         epochs=2, test_limit=60, attack_steps=2, attack_limit=5, query_select="uncertainty",
                         pool=400)
    store = StealStore(tmp_path, config.fingerprint(), resume=False)
    record = drive(run_steal(config, victim, test, None, store))
    assert [p["oracle_queries_so_far"] for p in record["runs"][0]["points"]] == [40, 70, 100]
    assert record["settings"]["query_select"] == "uncertainty" and record["settings"]["pool"] == 400
    _, images, answers, asked = store.run("none")
    assert asked == 100 and images.shape == (100, 1, 28, 28)
    pool = first_images(MNIST_SPEC, 400, victim.info.preprocessing)
    assert torch.equal(images[:40], pool[:40])                      # the first count: in order
    for before, held in ((40, 40), (70, 70)):
        copy = _load_substitute(tmp_path / "defence-none" / f"substitute-{before}", "mnist-cnn", "cpu")
        new = images[held:held + 30]
        expected = pool[least_sure(copy, pool, asked_mask(pool, images[:held]), 30)]
        assert torch.equal(new, expected)
        assert not asked_mask(pool[:40], new).all()                 # not simply the next images in order
    assert len({im.numpy().tobytes() for im in images}) == 100      # never the same image twice
    with torch.no_grad():
        assert torch.equal(answers, victim(images).argmax(1))


def test_cli_selects_by_uncertainty_and_a_resume_must_keep_the_selection(tmp_path, capsys):
    base = ["steal", "--victim", "mnist-standard", "--queries", "30,60", "--query-data", MNIST_SPEC, "--arch",
            "mnist-cnn", "--test-data", MNIST_SPEC, "--test-limit", "30", "--attack-limit", "5", "--attack-steps", "2",
            "--epochs", "1", "--batch-size", "10", "--threads", "1", "--dpi", "72", "--out", str(tmp_path / "run")]
    assert main(base + ["--query-select", "uncertainty", "--pool", "20"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--pool 20 is not larger" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
    assert main(base + ["--query-select", "uncertainty"]) == 0     # the default pool: 10 x 60 images
    out = capsys.readouterr().out
    assert "60 oracle queries" in out and "chosen by uncertainty" in out
    assert main(base + ["--query-select", "uncertainty", "--pool", "600", "--resume"]) == 0   # the same pool
    capsys.readouterr()
    assert main(base + ["--resume"]) == 2                           # the same folder in order: other settings
    err = capsys.readouterr().err
    assert "query_select 'uncertainty' -> 'order'" in err and "pool 600 -> 0" in err
