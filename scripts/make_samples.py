"""Write the labelled sample images of the bundled MNIST and Fashion-MNIST models: for each
set, the first image of each class in the test split, as a 28x28 8-bit grayscale PNG (the
idx file's bytes, unchanged), named LABEL[-CLASS]_idxINDEX.png (INDEX: its position in the
test split), into resources/samples/KIND/.

    python scripts/make_samples.py [--data ../shared/data]

The images are the data sets' own: MNIST (Yann LeCun, Corinna Cortes, Christopher J.C.
Burges; commonly cited as CC BY-SA 3.0) and Fashion-MNIST (Zalando Research, MIT licence);
resources/samples/ATTRIBUTION.md credits them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from PIL import Image  # noqa: E402

from visualizer.core.data import load_dataset  # noqa: E402

KINDS = ("mnist", "fashion-mnist")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def sample_name(label: int, class_name: str, index: int) -> str:
    """``3_idx18.png`` for a digit, ``9-ankle-boot_idx0.png`` for a named class."""
    tail = "" if class_name == str(label) else f"-{slug(class_name)}"
    return f"{label}{tail}_idx{index}.png"


def write_samples(kind: str, data_root: Path, dest: Path) -> list[Path]:
    data = load_dataset(f"{kind}:{data_root / kind}", "test")
    folder = dest / kind
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    written = []
    for label, class_name in enumerate(data.class_names):
        index = int((data.labels == label).nonzero()[0])
        pixels = data.images[index, 0].numpy()            # uint8, 28 x 28, as stored in the idx file
        path = folder / sample_name(label, class_name, index)
        Image.fromarray(pixels).save(path, optimize=True)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                   help="folder holding mnist/ and fashion-mnist/ (default ../shared/data)")
    p.add_argument("--dest", type=Path, default=ROOT / "resources" / "samples")
    args = p.parse_args(argv)
    for kind in KINDS:
        for path in write_samples(kind, args.data, args.dest):
            print(path.relative_to(args.dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
