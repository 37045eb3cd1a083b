"""What a backdoor rate sweep measured, as the window shows it: clean test accuracy and attack
success rate against the poison rate (one point per finished rate, the ASR after the
detector's retraining dashed), the triggered test images with the predictions before and
after, and the detector's most suspect training images with its precision and recall.

Rates sit at even spacing, labelled with their value and poison count, as in the exported
curves figure (core/figures/poisoning.py): they usually span decades and include 0."""

from __future__ import annotations

import html

import numpy as np

from visualizer.core.formatting import poison_rate_text as rate_label
from visualizer.core.palette import C_POISON_ASR as ASR_COLOUR, C_POISON_CLEAN as CLEAN_COLOUR
from visualizer.gui.panels.chooser import chooser, chooser_column
from visualizer.gui.panels.plot_legend import LegendEntry, LegendPlot
from visualizer.gui.panels.poison_images import FALSE_POSITIVE, GOOD, POISON_COLOUR, ThumbGrid
from visualizer.gui.panels.plot_parts import fixed_plot
from visualizer.gui.panels.theme import PlotColours
from visualizer.gui.qt import Qt, QtWidgets, pg


class RateCurves(LegendPlot):
    """``show_entries(entries)`` redraws from the sweep's poison.json rate entries."""

    def __init__(self, parent=None):
        super().__init__(parent)
        view = pg.GraphicsLayoutWidget()
        plot = fixed_plot(view, "poison rate (poisoned training images)", "% of test images", (-3, 103))
        self.plot_item = plot
        self.stack(view, plot, "Clean accuracy and attack success rate appear here as each rate finishes", 150)
        self.clean = plot.plot()
        self.asr = plot.plot()
        self.clean_after = plot.plot()
        self.asr_after = plot.plot()
        self.entries: list[dict] = []
        self._legend(False)
        self.apply_theme()

    def theme_changed(self, colours: PlotColours) -> None:
        super().theme_changed(colours)
        styles = ((self.clean, CLEAN_COLOUR, False, "o"), (self.asr, ASR_COLOUR, False, "s"),
                  (self.clean_after, CLEAN_COLOUR, True, "o"), (self.asr_after, ASR_COLOUR, True, "s"))
        for curve, colour, dashed, symbol in styles:
            c = colours.accent(colour)
            style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
            curve.setPen(pg.mkPen(c, width=2, style=style))
            curve.setSymbol(symbol)
            curve.setSymbolSize(8)
            curve.setSymbolPen(pg.mkPen(c))
            curve.setSymbolBrush(colours.window if dashed else c)

    def show_entries(self, entries: list[dict]) -> None:
        self.entries = [dict(e) for e in entries]
        xs = np.arange(len(entries), dtype=float)
        self.clean.setData(xs, [100 * e["clean_accuracy"] for e in entries])
        self.asr.setData(xs, [100 * e["attack_success_rate"] for e in entries])
        found = [(x, e["detection"]["retrained"]) for x, e in zip(xs, entries) if e.get("detection")]
        self.clean_after.setData([x for x, _ in found], [100 * r["clean_accuracy"] for _, r in found])
        self.asr_after.setData([x for x, _ in found], [100 * r["attack_success_rate"] for _, r in found])
        for curve in (self.clean_after, self.asr_after):
            curve.setVisible(bool(found))
        self._legend(bool(found))
        self.plot_item.getAxis("bottom").setTicks(
            [[(float(x), f"{rate_label(e['rate'])} ({e['poisons']})") for x, e in zip(xs, entries)]])
        self.plot_item.setXRange(-0.4, max(len(entries) - 1, 1) + 0.4, padding=0)
        self.empty_hint.set_empty(not entries)

    def _legend(self, removal: bool) -> None:
        entries = [LegendEntry("clean test accuracy", CLEAN_COLOUR, "o"),
                   LegendEntry("attack success rate", ASR_COLOUR, "s")]
        note = "dashed, hollow: after retraining without the detector's flagged images" if removal else ""
        self.legend.set_entries(entries, note)

    def points(self) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """(clean accuracy, ASR) as plotted: (rate, percent) pairs, one per finished rate."""
        out = []
        for curve in (self.clean, self.asr):
            x, y = curve.getData()
            out.append([] if x is None else [(self.entries[int(i)]["rate"], float(v)) for i, v in zip(x, y)])
        return out[0], out[1]


def prediction_items(examples: dict, before: dict, after: dict, names: list[str], target: int) -> list[tuple]:
    """Thumbnails of the sweep's example test images, clean row then triggered row, each
    captioned "before → after" (predictions of the ``before`` and ``after`` rate entries);
    a triggered image sent to the target is framed in red."""
    items = []
    for kind, images in (("clean", examples["clean"]), ("triggered", examples["triggered"])):
        for i, pixels in enumerate(images):
            b = before["example_predictions"][kind][i]
            a = after["example_predictions"][kind][i]
            true = examples["labels"][i]
            hit = kind == "triggered" and a == target
            colour = POISON_COLOUR if hit else (GOOD if a == true else None)
            caption = f'{html.escape(names[b])} \u2192 <span style="color:{colour or "inherit"}">' \
                      f"<b>{html.escape(names[a])}</b></span>"
            tip = (f"{kind} test image of class {names[true]}: predicted {names[b]} by the "
                   f"{rate_label(before['rate'])} model, {names[a]} by the {rate_label(after['rate'])} model")
            items.append((pixels, caption, POISON_COLOUR if hit else None, tip))
    return items


def suspect_items(detection: dict, images, names: list[str]) -> list[tuple]:
    """The detector's most suspect training images: red frame for a true poison, amber for
    a clean image flagged (a false positive); captioned with the training label."""
    items = []
    for row, pixels in zip(detection.get("most_suspect") or [], images):
        poison = row["poison"]
        colour = POISON_COLOUR if poison else FALSE_POSITIVE
        what = "poison" if poison else "clean"
        label = names[row["label"]]
        relabelled = row["true_label"] != row["label"]
        caption = f'<span style="color:{colour}"><b>{what}</b></span> {html.escape(label)}'
        tip = (f"training image {row['index']}, labelled {label}"
               + (f" (truly {names[row['true_label']]})" if relabelled else "")
               + f"; score {row['relative_score']:.1f}x its class's mean; "
               + ("a planted poison" if poison else "a clean image (false positive)"))
        items.append((pixels, caption, colour, tip))
    return items


def detection_text(entry: dict) -> str:
    """One paragraph: what the detector flagged, its precision and recall, and the ASR after
    retraining without the flagged images, against the ASR before."""
    d = entry["detection"]
    fmt = lambda v: "n/a" if v is None else f"{v:.1%}"  # noqa: E731
    r = d["retrained"]
    return (f"At {rate_label(entry['rate'])}: spectral signatures (top {d['directions']} direction"
            f"{'s' if d['directions'] != 1 else ''}) flagged {d['flagged']} training images, "
            f"{d['true_positives']} of the {d['poisons']} poisons: <b>recall {fmt(d['recall'])}</b>, "
            f"<b>precision {fmt(d['precision'])}</b>. Retrained without them: "
            f"<b>ASR {fmt(r['attack_success_rate'])}</b> (was {fmt(entry['attack_success_rate'])}), "
            f"clean accuracy {fmt(r['clean_accuracy'])} (was {fmt(entry['clean_accuracy'])}). "
            f'Frames: <span style="color:{POISON_COLOUR}">red</span> a true poison, '
            f'<span style="color:{FALSE_POSITIVE}">amber</span> a clean image flagged.')


class SweepViews(QtWidgets.QWidget):
    """The examples grid and the detector grid, with a choice of which rate they show."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rate = chooser("The rate whose model's predictions ('after') and detector results are shown")
        self.examples = ThumbGrid("Triggered test images appear here once the data is read.")
        self.suspects = ThumbGrid("With the detector on, its most suspect training images appear here.")
        box, _ = chooser_column(self, "Show rate", self.rate, self.examples, self.suspects)
        box.addStretch(1)
