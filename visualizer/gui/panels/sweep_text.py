"""The words of a sweep column: the worst transform's caption and the status lines, with a
sentence saying what "fooled on x%" counts. Records are ``core/results.sweep_record``'s."""

from __future__ import annotations

from visualizer.core.formatting import prob_text, signed

__all__ = ["fooled_explanation", "status_html", "transform_text", "worst_caption"]

DEGREE = "\u00b0"


def transform_text(angle, tx, ty) -> str:
    return f"rot {signed(angle, DEGREE)}, tx {signed(tx)}, ty {signed(ty)} px"


def worst_caption(worst: dict) -> str:
    if not worst:
        return " "
    verdict = "fooled" if worst.get("fooled") else "still correct"
    p = worst.get("true_prob")
    return f"{verdict}, P(true) {prob_text(float('nan') if p is None else p)}"


def fooled_explanation(record: dict) -> str:
    """What the percentage counts, in the record's own terms."""
    sweep = record.get("sweep") or {}
    label = record.get("label") or {}
    source = "the given label" if label.get("source") == "given" else "the clean prediction"
    evaluated = sweep.get("evaluated")
    where = " (all ty slices)" if sweep.get("mode") == "grid" else ""
    count = f"{evaluated} transforms" if evaluated else "transforms"
    return (f"Fooled on x%: the share of the {count} evaluated{where} whose top-1 is not "
            f"{label.get('label', '?')}, {source}.")


def status_html(record: dict, grid_shape: tuple[int, int, int] | None, samples: int, worst_colour: str,
                has_blank_cells: bool) -> str:
    """``grid_shape``: rotations x tx x ty of a grid sweep (None: random, ``samples`` draws)."""
    sweep = record.get("sweep") or {}
    worst = sweep.get("worst") or {}
    frac = sweep.get("fooled_fraction")
    parts = []
    if frac is not None:
        parts.append(f"<b>Fooled on {100 * float(frac):.1f}% of transforms</b>")
    if grid_shape is not None:
        parts.append(f"grid {grid_shape[0]} rotations \u00d7 {grid_shape[1]} tx \u00d7 {grid_shape[2]} ty")
    else:
        parts.append(f"{samples} random transforms")
    if worst.get("angle") is not None:
        parts.append("worst: " + transform_text(worst["angle"], worst.get("tx") or 0, worst.get("ty") or 0))
    lines = [" \u00b7 ".join(parts), fooled_explanation(record)]
    worst_mark = "\u25a1" if grid_shape is not None else "\u25cb"      # outlined cell / ring
    legend = (f"\u00d7 misclassified \u00b7 <span style='color:{worst_colour}'>{worst_mark}</span> worst "
              "transform \u00b7 click the map to see a transform")
    if has_blank_cells:
        legend += " \u00b7 blank cells: not evaluated"
    lines.append(legend)
    if record.get("cancelled"):
        lines.append("<b>Cancelled</b>: only part of the sweep was evaluated.")
    return "<br>".join(lines)
