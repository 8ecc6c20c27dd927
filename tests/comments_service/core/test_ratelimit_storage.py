"""The SQLite storage of the `limits` library: the library's strategies on a real file, shared by openers."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import STRATEGIES

from comments_service.core import ratelimit_storage
from comments_service.core.config import RATE_LIMIT_STRATEGIES


@pytest.fixture
def uri(tmp_path) -> str:
    return ratelimit_storage.uri_for(tmp_path / "limits.sqlite3")


@pytest.mark.parametrize("strategy", RATE_LIMIT_STRATEGIES)
def test_each_strategy_counts_in_the_file(uri, strategy):
    first = STRATEGIES[strategy](storage_from_string(uri))
    second = STRATEGIES[strategy](storage_from_string(uri))  # another worker opening the same file
    item = parse("3/minute")
    assert [first.hit(item, "203.0.113.1"), second.hit(item, "203.0.113.1"), first.hit(item, "203.0.113.1")] == [
        True, True, True,
    ]
    assert not second.hit(item, "203.0.113.1") and not first.test(item, "203.0.113.1")
    assert first.hit(item, "203.0.113.2")  # another client
    assert first.get_window_stats(item, "203.0.113.1").remaining == 0
    first.clear(item, "203.0.113.1")
    assert second.hit(item, "203.0.113.1")


@pytest.mark.parametrize("strategy", RATE_LIMIT_STRATEGIES)
def test_a_window_expires(uri, strategy):
    limiter = STRATEGIES[strategy](storage_from_string(uri))
    item = parse("2/second")
    assert limiter.hit(item, "k") and limiter.hit(item, "k") and not limiter.hit(item, "k")
    time.sleep(2.1 if strategy == "sliding-window-counter" else 1.1)  # the sliding one weighs the previous second
    assert limiter.hit(item, "k")


def test_reset_and_check(uri):
    storage = storage_from_string(uri)
    limiter = STRATEGIES["fixed-window"](storage)
    limiter.hit(parse("5/minute"), "a")
    limiter.hit(parse("5/minute"), "b")
    assert storage.check()
    assert storage.reset() == 2
    assert storage.get(parse("5/minute").key_for("a")) == 0


def test_an_unopenable_file_fails_the_check(tmp_path):
    storage = storage_from_string(ratelimit_storage.uri_for(tmp_path / "missing-dir" / "limits.sqlite3"))
    assert storage.check() is False


def _hit_many(uri: str, strategy: str, n: int, queue) -> None:
    limiter = STRATEGIES[strategy](storage_from_string(uri))
    queue.put(sum(limiter.hit(parse("50/minute"), "shared") for _ in range(n)))


@pytest.mark.parametrize("strategy", RATE_LIMIT_STRATEGIES)
def test_processes_racing_never_take_more_than_the_budget(uri, strategy):
    """4 processes, 40 hits each, at once: exactly 50 taken (each acquire reads and bumps in one transaction)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_hit_many, args=(uri, strategy, 40, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    taken = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
    assert sum(taken) == 50, taken


def test_uri_paths():
    assert ratelimit_storage.path_of("sqlite:///var/lib/x.sqlite3") == "/var/lib/x.sqlite3"
    with pytest.raises(ValueError):
        ratelimit_storage.path_of("sqlite://")


def _first_hit(uri: str, barrier, queue) -> None:
    barrier.wait()
    try:
        queue.put(STRATEGIES["fixed-window"](storage_from_string(uri)).hit(parse("50/minute"), "k"))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        queue.put(repr(exc))


def test_workers_starting_together_on_a_new_file_all_count(tmp_path):
    """gunicorn's workers open the storage at once on a fresh machine: switching the new file to WAL once
    failed at once (`database is locked`) in all but one of them."""
    context = multiprocessing.get_context("fork")
    for attempt in range(6):
        uri = ratelimit_storage.uri_for(tmp_path / f"new-{attempt}.sqlite3")
        barrier, queue = context.Barrier(8), context.Queue()
        workers = [context.Process(target=_first_hit, args=(uri, barrier, queue)) for _ in range(8)]
        for worker in workers:
            worker.start()
        answers = [queue.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join()
        assert answers == [True] * 8, answers
