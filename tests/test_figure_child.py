"""The window's export draws the publication figure in a child process (core/figure_child.py:
matplotlib's drawing held the GIL for tens of milliseconds on the export thread, stalling the
window). The child writes the figure this process would, and an export whose child fails
still writes every file. A real FGSM attack on the bundled digits model."""

from pathlib import Path

from support import digit_attack_artifacts
from visualizer.core.export import write_run
from visualizer.core.figure_child import save_figure_in_child


def test_the_child_draws_the_figure_this_process_would(tmp_path):
    art = digit_attack_artifacts()
    (tmp_path / "child").mkdir()
    paths = save_figure_in_child(art, False, tmp_path / "child", ("png", "svg"), 100)
    assert sorted(p.name for p in paths) == ["figure.png", "figure.svg"]
    here = write_run(tmp_path / "here", art, dpi=100, formats=("png", "svg"), raw=False)
    assert here["files"] == {"figure_png": "figure.png", "figure_svg": "figure.svg"}
    assert (tmp_path / "child" / "figure.png").read_bytes() == (tmp_path / "here" / "figure.png").read_bytes()
    svg = (tmp_path / "child" / "figure.svg").read_bytes()
    assert svg.startswith(b"<?xml") and abs(len(svg) - len((tmp_path / "here" / "figure.svg").read_bytes())) < 200


def test_an_export_whose_figure_child_fails_draws_the_figure_itself(tmp_path):
    calls = []

    def broken(*args):
        calls.append(args)
        raise RuntimeError("the child could not start")

    record = write_run(tmp_path / "run", digit_attack_artifacts(), dpi=100, formats=("png", "pdf"), raw=False,
                       figure_writer=broken)
    assert calls and record["files"] == {"figure_png": "figure.png", "figure_pdf": "figure.pdf"}
    assert (tmp_path / "run" / "figure.pdf").read_bytes().startswith(b"%PDF")
    assert Path(tmp_path / "run" / "figure.png").stat().st_size > 1000


def test_the_comparison_figure_is_drawn_in_the_child_as_here(tmp_path):
    from visualizer.core.export import write_comparison
    from visualizer.core.figure_child import save_comparison_in_child

    runs = [digit_attack_artifacts(), digit_attack_artifacts()]
    runs[1].record["model"] = {**runs[1].record["model"], "id": "digits-standard-again"}
    (tmp_path / "child").mkdir()
    paths = save_comparison_in_child(runs, tmp_path / "child", ("png",), 100)
    assert [p.name for p in paths] == ["comparison.png"]
    summary, _ = write_comparison(tmp_path / "here", runs, dpi=100, formats=("png",))
    assert summary["files"] == ["comparison.png"]
    assert (tmp_path / "child" / "comparison.png").read_bytes() == (tmp_path / "here" / "comparison.png").read_bytes()
