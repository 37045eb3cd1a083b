"""The table's budget line: a rotation + translation grid coarser than Engstrom et al.'s
(31 rotations x 5 x 5 translations) says its size, so a cheaper grid is not read as theirs."""

from visualizer.core.evaluation import parse_threats
from visualizer.core.evaluation.presentation import budget_text


def _budget(spec: str) -> str:
    (threat,) = parse_threats([spec])
    return budget_text(threat.to_dict(), 28)


def test_a_coarse_grid_names_its_size_and_the_papers_grid_does_not():
    assert _budget("spatial:grid") == "\u00b130\u00b0, \u00b13 px"
    assert _budget("spatial:grid:30:7:3:3") == "\u00b130\u00b0, \u00b13 px, 7\u00d73\u00d73 grid"
    assert _budget("spatial:worst-of-k:10") == "\u00b130\u00b0, \u00b13 px"
    assert _budget("pgd:linf:0.3:40:2") == "\u03b5 = 0.3"
