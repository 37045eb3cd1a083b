"""The PyInstaller spec is valid Python and every checkout path it bundles exists. Running
PyInstaller itself takes minutes and gigabytes (packaging/README.md records a real build)."""

import ast

from support import ROOT

SPEC = ROOT / "packaging" / "pyinstaller" / "visualizer.spec"


def root_paths(tree: ast.AST) -> set[tuple[str, ...]]:
    """Every ``ROOT / "a" / "b"`` expression in the spec, as ("a", "b")."""
    def parts(node):
        if isinstance(node, ast.Name) and node.id == "ROOT":
            return ()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) \
                and isinstance(node.right, ast.Constant) and isinstance(node.right.value, str):
            left = parts(node.left)
            return None if left is None else left + (node.right.value,)
        return None

    found = {parts(node) for node in ast.walk(tree) if isinstance(node, ast.BinOp)}
    return {p for p in found if p}


def test_spec_parses_and_its_paths_exist():
    tree = ast.parse(SPEC.read_text(), filename=str(SPEC))
    paths = root_paths(tree)
    for expected in (("resources",), ("docs", "tutorial.md"), ("docs", "tutorial"),
                     ("packaging", "pyinstaller", "entry.py")):
        assert expected in paths, expected
    for parts in paths:
        assert ROOT.joinpath(*parts).exists(), "/".join(parts)
    # The entry script is valid Python too and runs the same command as the pip install.
    entry = (ROOT / "packaging" / "pyinstaller" / "entry.py").read_text()
    ast.parse(entry)
    assert "from visualizer.cli import main" in entry
