"""The masking notes of a card's evaluations: a query attack beating PGD on the same images is
called gradient masking, AutoAttack beating it an overestimate by PGD, a small gap neither."""

from visualizer.core.models.card_evaluations import masking_notes


def _entry(kind: str, correct: int, n: int = 200, command: str = "visualizer evaluate ... --out a") -> dict:
    spec = {"pgd": "pgd:linf:0.3:40:2", "square": "square:linf:0.3:1000", "autoattack": "autoattack:linf:0.3"}[kind]
    return {"command": command, "threat": spec, "threat_label": kind, "split": "test", "n": n, "correct": correct,
            "accuracy": correct / n, "attacks": [{"kind": kind, "spec": spec, "norm": "linf", "eps": 0.3}]}


def test_square_beating_pgd_is_masking_autoattack_an_overestimate_a_small_gap_neither():
    pgd = _entry("pgd", 180)
    (square,) = masking_notes([pgd, _entry("square", 160)])
    assert "sign of gradient masking" in square and "160/200" in square and "180/200" in square
    (auto,) = masking_notes([pgd, _entry("autoattack", 170)])
    assert "PGD overestimates robustness by 5.0 points" in auto and "masking" not in auto
    (close,) = masking_notes([pgd, _entry("square", 176)])
    assert close.endswith("no sign of gradient masking from it (a gap under 3 points).")
    (weaker,) = masking_notes([pgd, _entry("square", 190)])      # Square leaves more standing
    assert weaker.endswith("(it breaks no more than the gradient attack).") and "gap" not in weaker


def test_only_results_of_the_same_run_are_compared_and_small_runs_say_so():
    assert masking_notes([_entry("pgd", 180), _entry("square", 100, command="another run")]) == []
    (note,) = masking_notes([_entry("pgd", 34, n=50), _entry("autoattack", 32, n=50)])
    assert "few images" in note
