"""Rate limits under real gunicorn with 2 worker processes: a budget holds for the machine, not per worker.

Flask-Limiter's `memory://` counted in each process, so 2 workers let twice the limit through. The service
runs here as in production (`gunicorn --workers 2 'comments_service:create_app()'`, on a free port, a
migrated temporary database, the default rate-limit storage), and clients hammer it over many connections.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import POST_B, seeded_service
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[3]
WRITES, READS = 5, 20  # the budgets per client address, per minute


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """The service under gunicorn with 2 sync workers; yields (base URL, access log). One for the module:
    the tests spend different budgets (writes, reads) of the same client."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    network_file, db_path = seeded_service(tmp_path)
    port = free_port()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "CONFRERES_NETWORK": str(network_file),
        "CONFRERES_DB": str(db_path), "CONFRERES_SECRET_KEY": "gunicorn-test-" + os.urandom(8).hex(),
        "CONFRERES_RATE_LIMIT": f"{WRITES}/minute", "CONFRERES_READ_RATE_LIMIT": f"{READS}/minute",
        "CONFRERES_MODERATION": "none", "CONFRERES_MAIL_SEND": "cron",
    }
    env.pop("CONFRERES_RATE_LIMIT_STORAGE", None)  # the default: what a fresh install runs
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(m)s %(s)s",
         "comments_service:create_app()"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=(tmp_path / "gunicorn.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                httpx.get(base + "/static/none", timeout=2)  # exempt: does not spend the read budget
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.2)
        _wait_for_workers(access_log, base)
        yield base, access_log
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait_for_workers(access_log: Path, base: str) -> None:
    """Until both workers have booted and answered (each request on a new connection goes to either)."""
    deadline = time.monotonic() + 60
    while len(_pids(access_log, "GET")) < 2:
        assert time.monotonic() < deadline, "the second worker never answered"
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: httpx.get(base + "/static/none", timeout=10), range(8)))


def _pids(access_log: Path, method: str, status: str | None = None) -> set[str]:
    found = set()
    for line in access_log.read_text().splitlines():
        pid, verb, code = line.split()
        if verb == method and status in (None, code):
            found.add(pid)
    return found


def _hammer(n: int, request) -> list[int]:
    """n requests from 8 concurrent clients, each on its own connection: the kernel spreads them."""
    def one(i: int) -> int:
        with httpx.Client(timeout=30) as client:
            return request(client, i).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def test_write_budget_holds_across_two_workers(gunicorn):
    base, access_log = gunicorn
    statuses = _hammer(
        WRITES * 6,
        lambda client, i: client.post(base + "/api/comments", json={"url": POST_B, "text": f"Commentaire n° {i}"}),
    )
    assert sorted(set(statuses)) == [201, 429], statuses
    assert statuses.count(201) == WRITES, statuses  # not 2 x WRITES: one budget for the machine
    assert len(_pids(access_log, "POST")) == 2, "both workers answered writes"
    assert len(_pids(access_log, "POST", "201")) >= 1


def test_read_budget_holds_across_two_workers(gunicorn):
    base, access_log = gunicorn
    statuses = _hammer(READS * 3, lambda client, i: client.get(base + "/api/counts", params={"url": POST_B}))
    assert statuses.count(200) == READS, statuses
    assert statuses.count(429) == 2 * READS
    assert len(_pids(access_log, "GET", "200") | _pids(access_log, "GET", "429")) == 2
