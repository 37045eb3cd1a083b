"""The wheel carries the package and its resources and works installed outside the checkout."""

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from support import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (path,) = out.glob("*.whl")
    return path


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("visualizer/__init__.py", "visualizer/cli.py", "visualizer/core/attacks/loop.py",
                     "visualizer/core/schema/result.schema.json",
                     "visualizer/resources/models/digits-standard.safetensors",
                     "visualizer/resources/models/digits-robust.safetensors",
                     "visualizer/resources/models/digits-standard.json",
                     "visualizer/resources/models/DIGITS_MODEL_CARD.md",
                     "visualizer/resources/samples/china.jpg",
                     "visualizer/resources/icons/visualizer.svg"):
        assert required in names, required
    assert any(n.startswith("visualizer/resources/samples/digit-") for n in names)
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "visualizer = visualizer.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.mark.slow
def test_installed_wheel_runs_an_attack_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    # Dependencies (torch alone is gigabytes) come from this test environment through a
    # path entry; the package itself only from the wheel.
    purelib = sysconfig.get_paths()["purelib"]
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "zz_test_dependencies.pth").write_text(purelib + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    where = subprocess.run([str(py), "-c", "import visualizer, visualizer.core.resources as r; "
                            "print(visualizer.__file__); print(r.resources_dir())"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, check=True).stdout.split()
    assert all(str(venv) in w for w in where), where
    sample = Path(where[1]) / "samples" / "china.jpg"
    out = tmp_path / "run"
    proc = subprocess.run([str(venv / "bin" / "visualizer"), "attack", "--model", "lite0-imagenet", "--image", str(sample),
                           "--eps", "1/255", "--steps", "2", "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "palace" in proc.stdout
    assert (out / "result.json").is_file() and (out / "figure.pdf").is_file()
