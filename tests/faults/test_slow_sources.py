"""An outside feed or a Webmention source that hangs, or answers one byte at a time, never holds a request or a
build past its timeout (issue 12, item 3).

Real sockets on 127.0.0.1 (tests/faults/slow_server.py): one accepts and never answers, one trickles an endless
header, one trickles its body. A byte every quarter second defeats a per-read timeout of one second; only the
deadline on the whole exchange stops it. Each bound below is 3x what the settings allow, not a measure of speed.
"""

from __future__ import annotations

import importlib
import threading

from tests.faults.slow_server import SlowServer
from tests.loopback import LoopbackServer
from tests.planet.conftest import feed_bytes  # also puts plugins/ on sys.path, as Pelican loads the plugin

fetch = importlib.import_module("planet.fetch")

SLOW = ("/silent", "/headers", "/body")


def finishes_within(seconds: float, work):
    """Run `work()` in a thread; its result, or a failure if it is still running after `seconds`."""
    box = {}

    def run():
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds:g} s: a slow source held it past its deadline"
    if "error" in box:
        raise box["error"]
    return box["result"]


def test_planet_feeds_that_hang_or_trickle_end_at_the_fetch_timeout(tmp_path):
    timeout = 1.0  # [planet] fetch_timeout: "seconds for the whole exchange with one outside feed"
    with SlowServer() as slow, LoopbackServer() as good:
        good.route("/good.atom", body=feed_bytes("good.atom.xml"), content_type="application/atom+xml")
        urls = [slow.url(path) for path in SLOW] + [good.url("/good.atom")]
        results = finishes_within(3 * timeout, lambda: fetch.refresh(urls, tmp_path, fetch.Options(timeout=timeout)))
    for url in urls[:3]:
        assert results[url].outcome == "error" and "délai dépassé" in results[url].error, results[url]
    assert results[urls[3]].outcome == "updated", "the good feed beside them is read"


def test_webmention_sources_that_hang_or_trickle_never_hold_a_request_or_the_queue(make_app, urls):
    timeout = 1.0  # WEBMENTION_TIMEOUT; safe_http.Guard gives one source 2x that for the whole exchange
    from comments_service.actions import mentions

    with SlowServer() as slow:
        app = make_app(WEBMENTION_ALLOW_HOSTS=f"127.0.0.1:{slow.port}", WEBMENTION_WORKER=False,
                       WEBMENTION_TIMEOUT=timeout)
        client = app.test_client()
        for path in SLOW:
            sent = finishes_within(3 * timeout, lambda path=path: client.post(
                "/webmention", data={"source": slow.url(path), "target": urls.POST_B}))
            assert sent.status_code == 202, sent.get_data(as_text=True)  # verified later, never in the request
        results = finishes_within(len(SLOW) * 3 * 2 * timeout, lambda: mentions.drain(app))
    assert len(results) == len(SLOW)
    for result in results:
        assert result["result"] == "retrying" and result["error"].startswith("Source injoignable"), result
