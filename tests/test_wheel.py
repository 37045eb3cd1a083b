"""The wheel carries the package and its resources and works installed outside the checkout;
the sdist carries everything needed to build that same wheel."""

import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from support import ROOT

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def build(kind: str, source: Path, out: Path) -> Path:
    """``python -m build --<kind>`` of the project at ``source``; the one file it made."""
    proc = subprocess.run([sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(out), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (path,) = out.glob("*.whl" if kind == "wheel" else "*.tar.gz")
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return build("wheel", ROOT, tmp_path_factory.mktemp("dist"))


def check_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("visualizer/__init__.py", "visualizer/cli/__init__.py", "visualizer/core/attacks/loop.py",
                     "visualizer/core/schema/result.schema.json",
                     "visualizer/gui/dialogs/tutorial.py",
                     "visualizer/resources/models/digits-standard.safetensors",
                     "visualizer/resources/models/digits-robust.safetensors",
                     "visualizer/resources/models/digits-standard.json",
                     "visualizer/resources/models/DIGITS_MODEL_CARD.md",
                     "visualizer/resources/samples/china.jpg",
                     "visualizer/resources/icons/visualizer.svg",
                     "visualizer/resources/docs/tutorial.md",
                     *(f"visualizer/resources/icons/hicolor/{n}x{n}/apps/adversarial-visualizer.png" for n in ICON_SIZES)):
        assert required in names, required
    # Every figure the tutorial links to, at the same relative path (Help > Tutorial).
    tutorial = zipfile.ZipFile(wheel).read("visualizer/resources/docs/tutorial.md").decode()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", tutorial)
    assert links
    for link in links:
        assert f"visualizer/resources/docs/{link}" in names, link
    assert any(n.startswith("visualizer/resources/samples/digit-") for n in names)
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "visualizer = visualizer.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_wheel_contents(wheel):
    check_wheel_contents(wheel)


@pytest.mark.slow
def test_sdist_is_complete_enough_to_build_the_wheel(tmp_path):
    sdist = build("sdist", ROOT, tmp_path / "sdist")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        (top,) = {n.split("/")[0] for n in names}
        members = {n.split("/", 1)[1] for n in names if "/" in n}
        for required in ("pyproject.toml", "README.md", "PKG-INFO", "visualizer/cli/__init__.py",
                         "resources/models/digits-robust.safetensors", "resources/samples/china.jpg",
                         "resources/icons/visualizer.svg", "resources/icons/hicolor/16x16/apps/adversarial-visualizer.png",
                         "docs/tutorial.md", "docs/tutorial/pgd.png",
                         "packaging/adversarial-visualizer.desktop", "packaging/io.github.adversarial_visualizer.metainfo.xml",
                         "packaging/adversarial-visualizer-session.xml", "packaging/pyinstaller/visualizer.spec",
                         "scripts/render_icons.py", "tests/test_wheel.py", "bench/run_all.py"):
            assert required in members, required
        assert not any(part in {".venv", ".git", "__pycache__", "runs", "dist", ".pytest_cache"}
                       for m in members for part in m.split("/")), sorted(members)[:50]
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}   # Python < 3.10.12 lacks it
        tar.extractall(tmp_path / "src", **safe)
    # The sdist alone (no checkout around it) must produce the same complete wheel.
    check_wheel_contents(build("wheel", tmp_path / "src" / top, tmp_path / "wheel"))


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
