"""Builds at the same time (two doctors' pushes, a push during cron's `confreres build`, cron run twice): each waits
for its turn, and the live planet is always a whole release. Real `confreres` processes on a real network."""

from __future__ import annotations

import fcntl
import subprocess
import time
from pathlib import Path

from confreres import build
from confreres.planet_build import LIVE
from confreres.releases import RELEASES, STATE_FILE, is_release
from tests.confreres.conftest import NO_SERVICE
from tests.faults import kit
from tests.planet.conftest import make_planet_network


def planet_releases(out: Path) -> list[Path]:
    """The planet's finished releases (their state file written), the live one included."""
    return [p for p in (out / RELEASES).iterdir() if is_release(p.name, "planet") and (p / STATE_FILE).is_file()]


def test_two_planet_builds_at_once_leave_a_whole_planet_online(tmp_path):
    """Two planet builds met at their publish (two blogs pushed at the same moment, a push during cron's build): the
    first published dropped every other planet release, the second's among them, half-written or about to go live;
    the second then put the live link on a folder that no longer existed, and the whole front page was gone."""
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b"), posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    out = network.output
    first_live = (out / LIVE).resolve()

    # The publish lock held here: both builds run up to their publish (or wait for their turn before it).
    with open(out / RELEASES / ".planet.lock", "a+") as publishing:
        fcntl.flock(publishing, fcntl.LOCK_EX)
        first = kit.cli(network.source, "planet", "refresh", "--no-fetch", text=True, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while len(planet_releases(out)) < 2 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        second = kit.cli(network.source, "planet", "refresh", "--no-fetch", text=True, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
        while (len(planet_releases(out)) < 3 and not kit.lock_waiters(out / RELEASES / ".planet.build.lock")
               and second.poll() is None and time.monotonic() < deadline):
            time.sleep(0.01)
        fcntl.flock(publishing, fcntl.LOCK_UN)
    results = [proc.communicate(timeout=300) + (proc.returncode,) for proc in (first, second)]

    assert all(code == 0 for _out, _err, code in results), results
    live = (out / LIVE).resolve()
    assert live.is_dir() and live != first_live, "the live planet is a release that exists"
    front = (out / "index.html").read_text(encoding="utf-8")
    assert "Billet 0 de dr-a" in front and "Billet 0 de dr-b" in front
    assert [p.resolve() for p in planet_releases(out)] == [live], "one planet release left: the live one"
