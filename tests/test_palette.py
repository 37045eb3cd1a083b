"""The stored colour tables are matplotlib's maps, and the window starts without matplotlib."""

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from support import ROOT
from visualizer.core.palette import DIVERGING, MAGNITUDE, N_COLOURS, SEQUENTIAL, colour_table, table_names


@pytest.mark.parametrize("name", [DIVERGING, SEQUENTIAL, MAGNITUDE])
def test_stored_table_equals_matplotlib_sampled_map(name):
    expected = np.round(matplotlib.colormaps[name](np.linspace(0.0, 1.0, N_COLOURS)) * 255).astype(np.uint8)
    table = colour_table(name)
    assert table.shape == (N_COLOURS, 4) and table.dtype == np.uint8
    np.testing.assert_array_equal(table, expected)
    assert not table.flags.writeable


def test_every_stored_table_is_used_by_a_named_map():
    assert set(table_names()) == {DIVERGING, SEQUENTIAL, MAGNITUDE}


def test_unknown_map_names_the_known_ones():
    with pytest.raises(KeyError, match="RdBu_r"):
        colour_table("jet")


def test_main_window_module_does_not_import_matplotlib():
    # matplotlib costs ~0.4 s; it is needed only once a figure is exported (bench/startup.py).
    code = ("import sys\n"
            "import visualizer.gui.main_window\n"
            "print('MPL:' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')))\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("MPL:"), out.stdout[-2000:]
