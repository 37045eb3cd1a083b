"""Exports and sessions get the permissions the user's umask gives ordinary files and
folders, not tempfile's owner-only ones (issue 16: export folders were drwx------)."""

import os
import stat

import pytest

from support import digit_attack_artifacts
from visualizer.core.export import write_comparison, write_run
from visualizer.core.session import Session, save_session


@pytest.fixture(scope="module")
def artifacts():
    return digit_attack_artifacts()


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_export_folders_and_files_follow_the_umask(tmp_path, artifacts):
    umask = 0o027          # neither tempfile's 0700/0600 nor a fixed 0644 gives 0750/0640
    old = os.umask(umask)
    try:
        write_run(tmp_path / "run", artifacts, figure=False)
        write_comparison(tmp_path / "both", [artifacts, artifacts], formats=("png",), dpi=50)
        save_session(Session(), tmp_path / "s.advsession")
    finally:
        os.umask(old)
    folders = [tmp_path / "run", tmp_path / "both", *[p for p in (tmp_path / "both").iterdir() if p.is_dir()]]
    assert len(folders) == 4 and {mode(p) for p in folders} == {0o777 & ~umask}
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 8 and {mode(p) for p in files} == {0o666 & ~umask}
