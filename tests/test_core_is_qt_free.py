"""The engine must never import Qt: the CLI runs headless and the GUI is only a view on it."""

import pkgutil
import subprocess
import sys

import visualizer.core


def core_modules() -> list[str]:
    names = ["visualizer.core", "visualizer.cli"]
    for info in pkgutil.walk_packages(visualizer.core.__path__, prefix="visualizer.core."):
        names.append(info.name)
    return names


def test_there_are_many_core_modules():
    # Guards the test below against silently checking nothing.
    assert len(core_modules()) >= 20


def test_every_core_module_imports_without_qt():
    code = (
        "import importlib, sys\n"
        f"names = {core_modules()!r}\n"
        "for n in names:\n"
        "    importlib.import_module(n)\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'pyqtgraph'))\n"
        "print('QT:' + ','.join(qt))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "QT:\n" in out.stdout or out.stdout.strip().endswith("QT:"), out.stdout
