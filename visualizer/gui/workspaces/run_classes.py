"""Class fields on a run over several models: the reference and target classes are chosen by
name from the selected model's classes and passed on as indices, so a model with other
classes would read them as another class (digit 8 as ImageNet's "hen")."""

from __future__ import annotations

from visualizer.core.lab_state import ModelEntry


def foreign_class_problem(label: int | None, target: int | None, selected: ModelEntry | None,
                          entries: list[ModelEntry]) -> str | None:
    """The message refusing a run of ``entries`` when a class was chosen (``label``, ``target``:
    indices into the selected model's classes) and some entry has other classes; None if fine."""
    chosen = [(what, index) for what, index in (("reference class", label), ("target class", target))
              if index is not None]
    if not chosen or selected is None or not selected.ready:
        return None
    names = list(selected.model.info.class_names)
    others = [e for e in entries if e is not selected and e.ready and list(e.model.info.class_names) != names]
    if not others:
        return None
    picked = " and ".join(f"the {what} {names[index]!r}" for what, index in chosen if index < len(names))
    ways = [f"run on {selected.title} alone"]
    if label is not None:
        ways.append("empty the reference class (each model's own prediction)")
    if target is not None:
        ways.append("run untargeted")
    return (f"{picked[0].upper() + picked[1:]} {'are' if len(chosen) > 1 else 'is'} one of "
            f"{selected.title}'s classes; {', '.join(e.title for e in others)} "
            f"{'have' if len(others) > 1 else 'has'} other classes. To compare them, "
            f"{', or '.join(ways)}.")
