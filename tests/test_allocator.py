"""The CPU allocator settings of the CLI and the window: freed memory is kept for reuse
during a run (no page faults on every step) and handed back afterwards."""

import os
import subprocess
import sys

import pytest

from visualizer.core.allocator import _glibc

pytestmark = pytest.mark.skipif(_glibc() is None, reason="glibc-only settings (Linux)")

PROBE = """
import sys
import torch
from visualizer.core.allocator import release_free_memory, tune_allocator

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

print("tuned", tune_allocator())
before = rss_mib()
x = torch.ones(64, 1024, 1024)            # 256 MiB, touched
del x
after_free = rss_mib()
release_free_memory()
after_release = rss_mib()
print(f"grew {after_free - before:.0f} released {after_free - after_release:.0f}")
"""


def run_probe(env_extra: dict) -> str:
    env = dict(os.environ, **env_extra)
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def numbers(stdout: str) -> tuple[float, float]:
    words = stdout.split()
    return float(words[words.index("grew") + 1]), float(words[words.index("released") + 1])


def test_tuned_process_keeps_freed_memory_until_released():
    out = run_probe({})
    assert "tuned True" in out
    kept, released = numbers(out)
    assert kept > 200, out          # the freed 256 MiB stayed in the process for reuse...
    assert released > 200, out      # ...and went back to the system when asked


def test_default_setting_returns_memory_at_once():
    out = run_probe({"VISUALIZER_MALLOC": "default"})
    assert "tuned False" in out
    kept, _ = numbers(out)
    assert kept < 50, out           # glibc's default: a large block is unmapped when freed
