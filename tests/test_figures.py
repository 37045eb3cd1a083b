"""Publication figures: realistic records and arrays, saved as PNG, PDF and SVG and inspected."""

import base64
import io
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

from visualizer.core.errors import OutputError
from visualizer.core.figures import (
    DIVERGING,
    attack_figure,
    saliency_figure,
    save_figure,
    sweep_figure,
)

DPI = 150
EPS = 8 / 255
SVG_NS = "{http://www.w3.org/2000/svg}"
PDFTOPPM = shutil.which("pdftoppm")


# --------------------------------------------------------------------------- data


def natural_image(c=3, h=64, w=64, seed=0):
    """Smooth random structure plus a gradient: image-like, not white noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((c, h // 8 + 1, w // 8 + 1))
    img = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2)[:, :h, :w]
    img = 0.6 * img + 0.4 * np.linspace(0, 1, w)[None, None, :]
    return np.clip(img + 0.03 * rng.standard_normal((c, h, w)), 0, 1)


def top5(pairs):
    return [{"class": c, "label": lab, "prob": p} for c, lab, p in pairs]


def attack_record(targeted=True, model_id="robustbench/Salman2020Do_R50-linf", n_iter=21):
    rng = np.random.default_rng(1)
    t = np.linspace(0, 1, n_iter)
    return {
        "model": {"id": model_id},
        "parameters": {"method": "pgd", "norm": "linf", "eps": EPS, "steps": n_iter - 1, "step_size": 2 / 255,
                       "targeted": targeted, "restarts": 1},
        "label": {"class": 948, "label": "Granny Smith", "source": "given"},
        "target": {"class": 275, "label": "African hunting dog", "source": "given"} if targeted else None,
        "clean": {"top5": top5([(948, "Granny Smith", 0.91), (951, "lemon", 0.04), (950, "orange", 0.02),
                                (180, "American Staffordshire terrier", 0.01), (957, "pomegranate", 0.004)])},
        "adversarial": {
            "top5": top5([(275, "African hunting dog", 0.71), (948, "Granny Smith", 0.15),
                          (180, "American Staffordshire terrier", 0.05), (951, "lemon", 0.02), (1, "goldfish", 0.01)]),
            # Of the saved 8-bit image, which the figure shows (a full top-5, as every record has).
            "top5_quantized": top5([(275, "African hunting dog", 0.69), (948, "Granny Smith", 0.16),
                                    (180, "American Staffordshire terrier", 0.05), (951, "lemon", 0.02),
                                    (1, "goldfish", 0.01)]),
        },
        "success": True,
        "perturbation": {"linf": EPS, "l2": 1.9, "linf_quantized": EPS, "l2_quantized": 1.9},
        "history": {"loss": list(np.log1p(5 * t) + 0.02 * rng.standard_normal(n_iter)),
                    "reference_prob": list(0.91 * np.exp(-3 * t)),
                    "target_prob": list(0.71 * t) if targeted else None},
        "cancelled": False,
    }


def attack_arrays(c=3, size=64):
    clean = natural_image(c, size, size)
    rng = np.random.default_rng(2)
    delta = EPS * np.sign(rng.standard_normal(clean.shape)) * (rng.random(clean.shape) < 0.8)
    return clean, np.clip(clean + delta, 0, 1)


def sweep_record():
    rot = np.linspace(-30, 30, 31)
    tr = np.linspace(-3, 3, 5)
    a, x, y = np.meshgrid(rot, tr, tr, indexing="ij")
    prob = 1 / (1 + np.exp((np.abs(a) - 18 + 2 * np.abs(x) + np.abs(y)) / 3))
    pred = np.where(prob < 0.35, 7, 3)
    wi = np.unravel_index(np.argmin(prob), prob.shape)
    return {
        "model": {"id": "digits-cnn-sweep"},
        "label": {"class": 3, "label": "African hunting dog", "source": "given"},
        "parameters": {"mode": "grid", "max_rotation": 30.0, "max_translation": 3.0},
        "sweep": {
            "rotations": rot.tolist(), "translations_x": tr.tolist(), "translations_y": tr.tolist(),
            "grid_true_prob": prob.tolist(), "grid_pred": pred.tolist(),
            "worst": {"angle": float(rot[wi[0]]), "tx": float(tr[wi[1]]), "ty": float(tr[wi[2]]), "pred": 7,
                      "pred_label": "Cape hunting dog", "true_prob": float(prob[wi]), "fooled": True},
            "fooled_fraction": float((pred != 3).mean()),
        },
        "cancelled": False,
    }, (prob, pred, wi)


def saliency_record(scale, models=("resnet50-imagenet", "robustbench/Engstrom2019Robustness")):
    return {
        "model": {"id": models[0]},
        "saliency": {"method": "vanilla", "shared_scale": scale, "absolute": False,
                     "maps": [{"model": m, "class": 948, "label": "Granny Smith", "own_scale": scale / (10 ** i)}
                              for i, m in enumerate(models)]},
    }


# --------------------------------------------------------------------------- checks


def panel(fig, label):
    found = [ax for ax in fig.get_axes() if ax.get_label() == label]
    assert len(found) == 1, [ax.get_label() for ax in fig.get_axes()]
    return found[0]


def panel_pixels(fig, png_path, label, dpi, inset=3):
    """The rendered pixels inside one axes, located through its window extent. The extent is
    the one from the figure's last draw, so call this right after saving ``png_path``."""
    rgb = np.asarray(Image.open(png_path).convert("RGB")).astype(int)
    x0, y0, x1, y1 = panel(fig, label).get_window_extent().extents * dpi / fig.dpi
    h = rgb.shape[0]
    region = rgb[int(np.ceil(h - y1)) + inset: int(np.floor(h - y0)) - inset,
                 int(np.ceil(x0)) + inset: int(np.floor(x1)) - inset]
    assert region.shape[0] > 20 and region.shape[1] > 20, region.shape
    return region


def check_png(path, fig, dpi):
    with Image.open(path) as im:
        im.load()
        w, h = im.size
    fw, fh = fig.get_size_inches()
    assert abs(w - fw * dpi) <= 1 and abs(h - fh * dpi) <= 1, (w, h, fw * dpi, fh * dpi)
    # two-column paper: a full-width figure is about 7 inches wide
    assert 6.5 <= fw <= 7.5


def check_pdf(path, tmp_path, fig):
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/FontFile2" in data, "TrueType fonts must be embedded (pdf.fonttype 42)"
    if PDFTOPPM is None:
        # Only this sub-check needs poppler; the rest of the test still runs.
        print("pdftoppm not installed: skipping the PDF render check (apt-get install poppler-utils)")
        return None
    out = tmp_path / f"{path.stem}_render"
    subprocess.run([PDFTOPPM, "-r", "72", "-png", "-singlefile", str(path), str(out)], check=True, timeout=60)
    rendered = out.with_suffix(".png")
    with Image.open(rendered) as im:
        w, h = im.size
        assert np.asarray(im.convert("L")).std() > 5, "the PDF renders blank"
    fw, fh = fig.get_size_inches()
    assert abs(w - fw * 72) <= 2 and abs(h - fh * 72) <= 2
    return rendered


def check_svg(path, must_contain_text, min_images):
    root = ET.parse(path).getroot()
    images = list(root.iter(SVG_NS + "image"))
    assert len(images) >= min_images
    texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
    for needle in must_contain_text:
        assert any(needle in t for t in texts), (needle, texts[:20])
    return root, images


def agg_renderer(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def check_text_inside(fig):
    """Nothing clipped: everything drawn (ticks included) lies inside the figure, and so does
    every visible title, label, legend entry and annotation."""
    renderer = agg_renderer(fig)
    tight = fig.get_tightbbox(renderer)                      # inches
    w, h = fig.get_size_inches()
    assert tight.x0 >= -0.01 and tight.y0 >= -0.01 and tight.x1 <= w + 0.01 and tight.y1 <= h + 0.01, tight
    bounds = fig.bbox
    tick_labels = set()
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.majorTicks + axis.minorTicks:   # stale off-view ticks are never drawn
                tick_labels.update((id(tick.label1), id(tick.label2)))
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or id(t) in tick_labels:
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        bb = t.get_window_extent(renderer)
        assert bb.x0 >= bounds.x0 - 1 and bb.x1 <= bounds.x1 + 1, (t.get_text(), bb, bounds)
        assert bb.y0 >= bounds.y0 - 1 and bb.y1 <= bounds.y1 + 1, (t.get_text(), bb, bounds)


def check_no_overlap(fig):
    """Titles, axis labels, colour-bar labels and suptitles never run into each other."""
    renderer = agg_renderer(fig)
    items = []
    for ax in fig.get_axes():
        if not ax.get_visible():
            continue
        for t in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label):
            if t.get_visible() and t.get_text().strip():
                items.append(t)
    for sub in [fig, *fig.subfigs, *[s for f in fig.subfigs for s in f.subfigs]]:
        if sub._suptitle is not None:
            items.append(sub._suptitle)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in items]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (ta, a), (tb, b) = boxes[i], boxes[j]
            overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert overlap_w <= 1 or overlap_h <= 1, (ta, tb)


def saved_all(fig, tmp_path, name, dpi=DPI):
    paths = save_figure(fig, tmp_path / name, dpi=dpi)
    assert [p.name for p in paths] == [f"{name}.png", f"{name}.pdf", f"{name}.svg"]
    return paths


# --------------------------------------------------------------------------- attack


def test_attack_figure_in_all_formats(tmp_path):
    record = attack_record(targeted=True)
    clean, adv = attack_arrays()
    fig = attack_figure(record, clean, adv)
    png, pdf, svg = saved_all(fig, tmp_path, "attack")
    check_png(png, fig, DPI)
    check_pdf(pdf, tmp_path, fig)
    check_svg(svg, [record["model"]["id"], "Granny Smith", "African hunting dog"], min_images=3)
    check_text_inside(fig)
    check_no_overlap(fig)

    # Title: model, attack and eps both as a float and as k/255.
    title = fig._suptitle.get_text()
    assert record["model"]["id"] in title and "PGD" in title
    assert "8/255" in title and "0.0314" in title and "succeeded" in title

    # Perturbation panel: diverging map, symmetric limits at eps, amplification stated.
    ax_c = panel(fig, "perturbation")
    im = ax_c.get_images()[0]
    assert im.get_cmap().name.startswith(DIVERGING)
    lo, hi = im.get_clim()
    assert lo == pytest.approx(-EPS) and hi == pytest.approx(EPS)
    assert "\u00d732" in ax_c.get_title()
    assert "mean over RGB" in ax_c.get_xlabel()
    # The shown map is the signed channel mean of adversarial - clean (upsampled, same extent).
    shown = np.asarray(im.get_array())
    k = shown.shape[0] // 64
    np.testing.assert_allclose(shown[::k, ::k], (adv - clean).mean(axis=0), atol=1e-12)
    assert im.get_extent() == [-0.5, 63.5, 63.5, -0.5]

    # Top-5 bars keep the long ImageNet names whole and highlight reference and target.
    adv_ax = panel(fig, "top5_adversarial")
    names = [t.get_text() for t in adv_ax.get_yticklabels()]
    assert names[0] == "African hunting dog" and names[1] == "Granny Smith"
    assert names[2].endswith("\u2026") and len(names[2]) <= 20
    bar_colours = [tuple(p.get_facecolor()) for p in adv_ax.patches]
    assert bar_colours[0] != bar_colours[1] != bar_colours[2]
    assert bar_colours[2] == bar_colours[3]

    # Progress: loss plus reference and target probabilities.
    hist_lines = panel(fig, "history").get_lines() + panel(fig, "history_prob").get_lines()
    assert len(hist_lines) == 3
    assert len(hist_lines[0].get_xdata()) == len(record["history"]["loss"])
    # A targeted run maximises minus the target's cross-entropy: the axis says so, not "loss".
    assert panel(fig, "history").get_ylabel() == "\u2212CE(target)"


def test_attack_figure_reports_the_saved_8bit_image():
    """Rounding onto the 8-bit grid lost the success: title, panel (b) and its bars say what the
    saved image shows, and the title says the float result had succeeded."""
    record = attack_record(targeted=False)
    record.update(success=True, success_quantized=False)
    record["adversarial"]["top5_quantized"] = top5([(948, "Granny Smith", 0.48), (275, "African hunting dog", 0.41),
                                                     (951, "lemon", 0.05), (950, "orange", 0.02), (1, "goldfish", 0.01)])
    record["perturbation"].update(linf_quantized=7 / 255, l2_quantized=1.5)
    fig = attack_figure(record, *attack_arrays())
    title = fig._suptitle.get_text().replace("\n", " ")
    assert "attack failed" in title and "float result succeeded" in title and "7/255" in title and "1.5" in title
    assert "Granny Smith" in panel(fig, "adversarial").get_title()
    assert [t.get_text() for t in panel(fig, "top5_adversarial").get_yticklabels()][0] == "Granny Smith"


def test_attack_figure_grayscale_and_l2_untargeted(tmp_path):
    record = attack_record(targeted=False, model_id="digits-cnn")
    record["parameters"].update(method="fgsm", norm="l2", eps=1.5)
    record["history"] = {"loss": [0.2, 2.1], "reference_prob": [0.9, 0.2], "target_prob": None}
    clean, _ = attack_arrays(c=1, size=8)
    adv = np.clip(clean + 0.3 * np.random.default_rng(3).standard_normal(clean.shape), 0, 1)
    fig = attack_figure(record, clean, adv)
    png = save_figure(fig, tmp_path / "digits", formats=("png",), dpi=DPI)[0]
    check_png(png, fig, DPI)
    check_text_inside(fig)
    for label in ("clean", "adversarial"):
        im = panel(fig, label).get_images()[0]
        assert im.get_cmap().name == "gray" and im.get_clim() == (0.0, 1.0)
    im = panel(fig, "perturbation").get_images()[0]
    max_abs = np.abs(adv - clean).max()
    assert im.get_clim() == pytest.approx((-max_abs, max_abs))     # L2: limits are +-max|delta|
    assert "single channel" in panel(fig, "perturbation").get_xlabel()
    assert len(panel(fig, "history_prob").get_lines()) == 1        # no target curve
    assert panel(fig, "history").get_ylabel() == "CE(reference)"


def test_a_history_without_probabilities_gets_no_probability_axis(tmp_path):
    """A query attack behind a label-only oracle saw no probabilities: its record's history
    holds none, and the progress panel shows the loss alone."""
    record = attack_record(targeted=False, model_id="digits-cnn")
    record["history"] = {"loss": [-0.6, -0.3, 0.01], "reference_prob": [], "target_prob": None,
                         "queries": [10, 300, 800], "loss_name": "\u03b5 \u2212 distance"}
    clean, _ = attack_arrays(c=1, size=8)
    fig = attack_figure(record, clean, np.clip(clean + 0.1, 0, 1))
    assert "history_prob" not in [ax.get_label() for ax in fig.get_axes()]
    assert [line.get_label() for line in panel(fig, "history").get_lines()] == ["\u03b5 \u2212 distance"]
    assert panel(fig, "history").get_xlabel() == "queries"
    check_text_inside(fig)
    record["history"].update(loss=[-0.575], queries=[12])       # a budget spent in one batch
    fig = attack_figure(record, clean, np.clip(clean + 0.1, 0, 1))
    low, high = panel(fig, "history").get_xlim()
    assert low < 12 < high                                       # its one point is on the plot


@pytest.mark.parametrize("channels", [1, 3])
def test_checkerboard_pixels_stay_crisp(tmp_path, channels):
    board = (np.indices((32, 32)).sum(axis=0) % 2).astype(float)
    if channels == 1:
        clean = (0.2 + 0.6 * board)[None]
    else:
        clean = np.stack([0.9 * board, 0.3 + 0 * board, 0.8 * (1 - board)])
    record = attack_record(targeted=False)
    fig = attack_figure(record, clean, clean.copy())
    png = save_figure(fig, tmp_path / "board", formats=("png",), dpi=200)[0]

    # PNG at 200 dpi: exactly two colours inside the panel, both present.
    region = panel_pixels(fig, png, "clean", 200)
    colours = np.unique(region.reshape(-1, 3), axis=0)
    assert len(colours) == 2, colours[:10]

    svg, pdf = save_figure(fig, tmp_path / "board", formats=("svg", "pdf"))   # PDF drawn last

    # SVG: the embedded image is upsampled by an integer factor and marked pixelated.
    _, images = check_svg(svg, [record["model"]["id"]], min_images=3)
    href = next(v for k, v in images[0].attrib.items() if k.endswith("href"))
    with Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))) as emb:
        side = emb.size[0]
        emb_px = np.asarray(emb.convert("RGB")).astype(int)
    assert side >= 512 and side % 32 == 0
    f = side // 32
    # each source pixel became an f x f block of one colour
    blocks = emb_px.reshape(32, f, 32, f, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()
    assert "pixelated" in images[0].attrib.get("style", "")

    # PDF as a viewer renders it: no smoothing across pixels (only edge pixels may blend).
    if PDFTOPPM is None:
        print("pdftoppm not installed: skipping the rendered-PDF crispness check")
        return
    subprocess.run([PDFTOPPM, "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "board_pdf")],
                   check=True, timeout=60)
    region = panel_pixels(fig, tmp_path / "board_pdf.png", "clean", 150)
    dist = np.abs(region.reshape(-1, 1, 3) - colours[None, :, :]).max(axis=2).min(axis=1)
    assert (dist > 8).mean() < 0.25, (dist > 8).mean()


# --------------------------------------------------------------------------- sweep


def test_sweep_grid_figure(tmp_path):
    record, (_prob, pred, wi) = sweep_record()
    clean = natural_image(3, 32, 32)
    worst = np.roll(clean, 3, axis=2)
    fig = sweep_figure(record, clean, worst)
    png, pdf, svg = saved_all(fig, tmp_path, "sweep")
    check_png(png, fig, DPI)
    check_pdf(pdf, tmp_path, fig)
    check_svg(svg, [record["model"]["id"], "Cape hunting dog"], min_images=2 + 5)
    check_text_inside(fig)
    check_no_overlap(fig)

    rot = np.asarray(record["sweep"]["rotations"])
    tr = np.asarray(record["sweep"]["translations_x"])
    heatmaps = [panel(fig, f"heatmap_ty{k}") for k in range(5)]
    for k, ax in enumerate(heatmaps):
        im = ax.get_images()[0]
        assert im.get_clim() == (0.0, 1.0) and im.get_cmap().name.startswith("viridis")
        # rotation on y, tx on x, cells centred on the grid values
        l, r, b, t = im.get_extent()
        assert (l, r) == pytest.approx((-3.75, 3.75)) and (b, t) == pytest.approx((-31, 31))
        # every misclassified cell, and only those, carries an x marker
        wrong = pred[:, :, k] != record["label"]["class"]
        marks = [c for c in ax.collections if isinstance(c, PathCollection)]
        got = {(round(x, 6), round(y, 6)) for c in marks for x, y in c.get_offsets()}
        want = {(round(tr[j], 6), round(rot[i], 6)) for i, j in zip(*np.nonzero(wrong))}
        assert got == want and len(want) > 0
    # one shared colour bar for all panels
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.get_axes()) == 1
    # the worst cell is boxed, in the panel of its ty
    boxes = [(k, p) for k, ax in enumerate(heatmaps) for p in ax.patches if isinstance(p, Rectangle)]
    assert len(boxes) == 1 and boxes[0][0] == wi[2]
    box = boxes[0][1]
    assert box.get_x() + box.get_width() / 2 == pytest.approx(tr[wi[1]])
    assert box.get_y() + box.get_height() / 2 == pytest.approx(rot[wi[0]])


def test_sweep_random_figure(tmp_path):
    rng = np.random.default_rng(4)
    k = 120
    samples = np.stack([rng.uniform(-30, 30, k), rng.uniform(-3, 3, k), rng.uniform(-3, 3, k)], axis=1)
    p = 1 / (1 + np.exp((np.abs(samples[:, 0]) - 18) / 3))
    record, _ = sweep_record()
    record["parameters"]["mode"] = "random"
    record["sweep"].update(rotations=None, translations_x=None, translations_y=None, grid_true_prob=None,
                           grid_pred=None, samples=samples.tolist(), sample_true_prob=p.tolist())
    record["sweep"]["worst"].update(angle=float(samples[p.argmin(), 0]), tx=float(samples[p.argmin(), 1]),
                                    ty=float(samples[p.argmin(), 2]))
    img = natural_image(1, 28, 28)
    fig = sweep_figure(record, img, img[:, ::-1, :])
    png = save_figure(fig, tmp_path / "random", formats=("png",), dpi=DPI)[0]
    check_png(png, fig, DPI)
    check_text_inside(fig)
    for name, col in (("scatter_tx", 1), ("scatter_ty", 2)):
        ax = panel(fig, name)
        pts = ax.collections[0]
        np.testing.assert_allclose(pts.get_offsets(), samples[:, [col, 0]])
        np.testing.assert_allclose(pts.get_array(), p)
        assert pts.get_clim() == (0.0, 1.0)


# --------------------------------------------------------------------------- saliency


def test_saliency_maps_share_one_scale(tmp_path):
    h, w = 60, 80
    yy, xx = np.mgrid[0:h, 0:w]
    strong = np.sin(xx / 6.0) * np.cos(yy / 5.0)
    weak = strong / 10.0
    for m in (strong, weak):
        m[:6] = np.nan                      # outside the model's crop
        m[-6:] = np.nan
    scale = float(np.nanmax(np.abs(strong)))
    record = saliency_record(scale)
    image = natural_image(3, h, w).transpose(1, 2, 0)
    fig = saliency_figure(record, image, [strong, weak])
    png, pdf, svg = saved_all(fig, tmp_path, "saliency")
    check_png(png, fig, DPI)
    check_pdf(pdf, tmp_path, fig)
    check_svg(svg, ["resnet50-imagenet", "Granny Smith"], min_images=3)

    ims = [panel(fig, f"saliency{i}").get_images()[0] for i in range(2)]
    for im in ims:
        assert im.get_clim() == pytest.approx((-scale, scale))
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.get_axes()) == 1

    cmap = matplotlib.colormaps[DIVERGING]
    centre = np.array(cmap(0.5)[:3]) * 255
    bad = np.array(ims[0].get_cmap().get_bad()[:3]) * 255
    deviations = []
    for i in range(2):
        region = panel_pixels(fig, png, f"saliency{i}", DPI).astype(float)
        rows = region.shape[0]
        inside = region[rows // 5: rows - rows // 5]          # away from the NaN bands
        deviations.append(np.abs(inside - centre).sum(axis=2).mean())
        # the NaN border is drawn in the 'outside the crop' grey
        np.testing.assert_allclose(region[1, region.shape[1] // 2], bad, atol=2)
    assert deviations[0] > 5 * deviations[1], deviations
    check_text_inside(fig)        # (redraws at the figure's own dpi, so after the pixel checks)
    check_no_overlap(fig)


def test_saliency_overlay_and_absolute(tmp_path):
    h, w = 40, 40
    yy, xx = np.mgrid[0:h, 0:w]
    m = np.exp(-((xx - 20) ** 2 + (yy - 20) ** 2) / 50.0)
    m[:, :4] = np.nan
    record = saliency_record(1.0, models=("a-model",))
    record["saliency"]["absolute"] = True
    image = natural_image(3, h, w).transpose(1, 2, 0)
    fig = saliency_figure(record, image, [m], overlay=True)
    png = save_figure(fig, tmp_path / "overlay", formats=("png",), dpi=DPI)[0]
    region = panel_pixels(fig, png, "saliency0", DPI, inset=4)
    check_text_inside(fig)
    # the NaN band shows the grayscale image (R = G = B), the peak shows the map's colour
    band = region[region.shape[0] // 2, : region.shape[1] // 20]
    assert (np.ptp(band, axis=1) <= 2).all()
    centre = region[region.shape[0] // 2, region.shape[1] // 2]
    assert np.ptp(centre) > 30
    with pytest.raises(ValueError):
        saliency_figure(record, image, [m, m])


# --------------------------------------------------------------------------- saving


def test_atomic_save_replaces_and_leaves_no_temp_files(tmp_path):
    record = attack_record(targeted=False)
    fig = attack_figure(record, *attack_arrays(size=16))
    target = tmp_path / "fig.png"
    junk = os.urandom(3_000_000)
    target.write_bytes(junk)
    paths = save_figure(fig, tmp_path / "fig.png", formats=("png", "svg"), dpi=72)   # suffix is dropped
    assert paths == [tmp_path / "fig.png", tmp_path / "fig.svg"]
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) < len(junk)
    with Image.open(target) as im:
        im.load()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "fig.svg"]

    # A failure half-way leaves the previous file untouched and no temporary file behind.
    before = target.read_bytes()

    def broken_savefig(fh, **kwargs):
        fh.write(b"partial")
        raise OSError("disk full")

    fig.savefig = broken_savefig
    with pytest.raises(OutputError):
        save_figure(fig, tmp_path / "fig", formats=("png",))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "fig.svg"]
    with pytest.raises(OutputError):
        save_figure(fig, tmp_path / "fig", formats=("bmp",))


def test_no_pyplot_and_no_global_rc_changes():
    code = (
        "import sys, matplotlib, numpy as np\n"
        # reading rcParams['backend'] would itself resolve the backend through pyplot
        "rc = lambda: {k: matplotlib.rcParams[k] for k in matplotlib.rcParams.keys() if k != 'backend'}\n"
        "before = rc()\n"
        "import visualizer.core.figures as F\n"
        "import tempfile, pathlib\n"
        "rec = {'model': {'id': 'm'}, 'parameters': {'method': 'fgsm', 'norm': 'linf', 'eps': 0.03},"
        " 'label': {'class': 0, 'label': 'a', 'source': 'given'}}\n"
        "x = np.zeros((3, 8, 8))\n"
        "fig = F.attack_figure(rec, x, x + 0.01)\n"
        "F.save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / 'f', formats=('svg',))\n"
        "after = rc()\n"
        "changed = [k for k in before if before[k] != after[k]]\n"
        "assert not changed, changed\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert not any(m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6') for m in sys.modules)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
