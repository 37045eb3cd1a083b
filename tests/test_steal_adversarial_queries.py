"""`visualizer steal --adversarial-queries SHARE`: of each query count's new queries, that
share is PGD adversarial versions of the count's new images, crafted on a substitute trained
on the answers before; every one is counted by the oracle. Real MNIST, tiny real models."""

import pytest
import torch

from mnist_fixtures import single_thread  # noqa: F401 (fixture)
from mnist_support import MNIST_DIR, MNIST_SPEC, as_classifier, train_tiny_mnist
from visualizer.cli import main
from visualizer.core.attacks.loop import drive
from visualizer.core.data import load_dataset
from visualizer.core.errors import ParameterError
from visualizer.core.stealing import StealConfig, run_steal
from visualizer.core.stealing.queries import natural_total

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs MNIST in ../shared/data")


def test_natural_total_counts_the_plain_images_of_each_step():
    counts = (40, 100)
    assert [natural_total(n, counts, 0.5) for n in (0, 40, 100)] == [0, 20, 50]
    assert [natural_total(n, counts, 0.25) for n in (40, 100)] == [30, 30 + 45]    # floor(0.25 * 60) = 15
    assert natural_total(100, counts, 0.0) == 100


@pytest.mark.parametrize("share, query_data, words", [
    (0.6, MNIST_SPEC, "0 to 0.5"), (-0.1, MNIST_SPEC, "0 to 0.5"), (float("nan"), MNIST_SPEC, "0 to 0.5"),
    (0.3, "jacobian", "not jacobian"),
])
def test_a_bad_share_is_refused_in_one_line(share, query_data, words):
    with pytest.raises(ParameterError, match=words) as caught:
        StealConfig("v", "label", (200,), query_data, "mnist-cnn", MNIST_SPEC, "o", adversarial_queries=share)
    assert len(str(caught.value).splitlines()) == 1


def test_adversarial_queries_are_pgd_versions_of_each_steps_new_images(tmp_path):
    from visualizer.core.stealing.run import _adversarial, _load_substitute, pgd_params, predictions
    from visualizer.core.stealing.store import StealStore

    victim = as_classifier(train_tiny_mnist(), "tiny-victim")
    test = load_dataset(MNIST_SPEC, "test", preprocessing=victim.info.preprocessing, limit=60)
    config = StealConfig("tiny-victim", "label", (40, 100), MNIST_SPEC, "mnist-cnn", MNIST_SPEC, str(tmp_path),
                         epochs=1, test_limit=60, attack_steps=5, attack_limit=10, adversarial_queries=0.5)
    store = StealStore(tmp_path, config.fingerprint(), resume=False)
    record = drive(run_steal(config, victim, test, None, store))
    assert [p["oracle_queries_so_far"] for p in record["runs"][0]["points"]] == [40, 100]
    assert record["settings"]["adversarial_queries"] == 0.5
    _, images, answers, asked = store.run("none")
    assert asked == 100 and images.shape == (100, 1, 28, 28) and answers.shape == (100,)
    plain, _ = load_dataset(MNIST_SPEC, "train", preprocessing=victim.info.preprocessing, limit=50).batch(
        torch.arange(50))
    # Step one: data images 0-19, then their adversarial versions; step two: images 20-49, then theirs.
    for asked_plain, asked_adv, originals, held in ((images[:20], images[20:40], plain[:20], 20),
                                                    (images[40:70], images[70:], plain[20:50], 70)):
        assert torch.equal(asked_plain, originals)
        moved = (asked_adv - originals).abs().flatten(1).amax(1)
        assert moved.max() <= 0.2 + 1e-6 and (moved > 0.1).all()         # within the attack's L-inf eps
        # The measured attack (same PGD, same seed) on the round's substitute, away from the victim's answer.
        crafted_on = _load_substitute(tmp_path / "adversarial-rounds" / str(held), "mnist-cnn", "cpu")
        again = _adversarial(crafted_on, originals, predictions(victim, originals), pgd_params(config))
        assert torch.allclose(asked_adv, again, atol=1e-6)
    with torch.no_grad():
        assert torch.equal(answers, victim(images).argmax(1))            # the victim's own answers, all counted


def test_cli_takes_adversarial_queries_and_refuses_a_bad_share(tmp_path, capsys):
    base = ["steal", "--victim", "mnist-standard", "--queries", "30", "--query-data", MNIST_SPEC, "--arch",
            "mnist-cnn", "--test-data", MNIST_SPEC, "--test-limit", "30", "--attack-limit", "5", "--attack-steps", "2",
            "--epochs", "1", "--batch-size", "10", "--threads", "1", "--dpi", "72"]
    assert main(base + ["--adversarial-queries", "0.9", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "0 to 0.5" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
    assert main(base + ["--adversarial-queries", "1/3", "--out", str(tmp_path / "ok")]) == 0
    assert "30 oracle queries" in capsys.readouterr().out
    assert (tmp_path / "ok" / "adversarial-rounds" / "20" / "model.safetensors").is_file()   # 20 plain, 10 PGD
