"""Print the colour-map tables of visualizer/core/palette.py from matplotlib, for pasting
into ``_TABLES`` when a map is added (tests/test_palette.py checks the stored ones)."""

import sys
import textwrap

import matplotlib
import numpy as np

from visualizer.core.palette import N_COLOURS, table_names


def sampled(name: str) -> np.ndarray:
    rgba = matplotlib.colormaps[name](np.linspace(0.0, 1.0, N_COLOURS))
    return np.round(rgba * 255).astype(np.uint8)


def main(names: list[str]) -> None:
    for name in names:
        print(f'    "{name}": (')
        for line in textwrap.wrap(sampled(name).tobytes().hex(), 96):
            print(f'        "{line}"')
        print("    ),")


if __name__ == "__main__":
    main(sys.argv[1:] or list(table_names()))
