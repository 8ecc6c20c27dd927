"""One allow-list for every outgoing request (Webmention, fediverse): CONFRERES_OUTGOING_ALLOW_HOSTS, with
CONFRERES_WEBMENTION_ALLOW_HOSTS, its former name, still honoured; loopback refused when not listed."""

from __future__ import annotations

import pytest

from confreres.safe_http import (
    ALLOW_ENV,
    LEGACY_ALLOW_ENV,
    Guard,
    Refused,
    allow_hosts,
    configured_allow_hosts,
)
from tests.loopback import LoopbackServer


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    monkeypatch.delenv(LEGACY_ALLOW_ENV, raising=False)


def test_the_new_name_and_the_old_one(monkeypatch):
    assert allow_hosts() == frozenset()
    monkeypatch.setenv(LEGACY_ALLOW_ENV, "127.0.0.1:8020")
    assert allow_hosts() == {"127.0.0.1:8020"}, "the former name still works"
    monkeypatch.setenv(ALLOW_ENV, "Peer.Local, 127.0.0.1:8021")
    assert allow_hosts() == {"127.0.0.1:8020", "127.0.0.1:8021", "peer.local"}
    assert configured_allow_hosts({}) == allow_hosts(), "an app without the setting reads the environment"
    assert configured_allow_hosts({"OUTGOING_ALLOW_HOSTS": "a:1", "WEBMENTION_ALLOW_HOSTS": "b"}) == {"a:1", "b"}
    assert configured_allow_hosts({"WEBMENTION_ALLOW_HOSTS": ""}) == frozenset(), "set empty: nothing allowed"


def test_loopback_refused_unless_listed_for_gets_and_posts():
    with LoopbackServer() as server:
        server.routes["/inbox"] = lambda request: (202, {"Content-Type": "text/plain"}, "")
        with Guard() as closed:
            with pytest.raises(Refused):
                closed.post(server.url("/inbox"), b"{}", {"Content-Type": "application/activity+json"})
            with pytest.raises(Refused):
                closed.get(server.url("/inbox"))
        assert server.requests == []
        with Guard(allow=[server.host]) as opened:
            assert opened.post(server.url("/inbox"), b"{}", {"Content-Type": "application/activity+json"}).status == 202
        assert [(r.method, r.body) for r in server.requests] == [("POST", b"{}")]
