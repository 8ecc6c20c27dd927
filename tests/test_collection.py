"""The suite runs on pytest-xdist workers, which refuse to start unless each collects the same test ids.

A parameter built at import time from the clock or from hash order (a gzip header's mtime, a set)
gives each worker other ids, and the whole run stops before any test: collect twice, a second apart,
under other hash seeds, and compare.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def collected(seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "-p", "no:xdist", "tests"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return [line for line in run.stdout.splitlines() if "::" in line]


def test_every_worker_collects_the_same_test_ids():
    first = collected("1")
    time.sleep(1.1)  # a timestamp taken at import time now differs
    second = collected("2")
    assert len(first) > 1000
    assert first == second, sorted(set(first) ^ set(second))[:5]
