"""confreres.freshness: what a blog's state records of its comments, and when that is out of date."""

from __future__ import annotations

import json

from confreres import freshness
from tests.loopback import LoopbackServer


def test_what_a_release_records_of_its_snapshot(tmp_path):
    assert freshness.recorded(tmp_path, "v1") == {"snapshots": False}, "no comments plugin: no snapshot"
    (tmp_path / freshness.SNAPSHOT_FILE).write_text(json.dumps({"complete": True}), encoding="utf-8")
    assert freshness.recorded(tmp_path, "v1") == {"snapshots": True, "comments": "v1"}
    (tmp_path / freshness.SNAPSHOT_FILE).write_text(json.dumps({"complete": False}), encoding="utf-8")
    assert freshness.recorded(tmp_path, "v1") == {"snapshots": True, "comments": None}, "retaken when it answers"


def test_when_a_snapshot_is_stale():
    assert not freshness.comments_stale({"snapshots": True, "comments": "v1"}, "v1")
    assert freshness.comments_stale({"snapshots": True, "comments": "v1"}, "v2")
    assert freshness.comments_stale({"snapshots": True, "comments": None}, "v1"), "taken while the service was down"
    assert freshness.comments_stale({"fingerprint": "…"}, "v1"), "a release built before versions were recorded"
    assert not freshness.comments_stale({"snapshots": True, "comments": "v1"}, None), "service down: not compared"
    assert not freshness.comments_stale({"snapshots": False}, "v2"), "a blog that shows no comments"


def test_a_service_that_answers_badly_gives_no_state():
    with LoopbackServer() as server:
        assert freshness.fetch(server.url("/")) is None, "404 everywhere"
        server.route("/api/sites", body="<html>", content_type="text/html")
        assert freshness.fetch(server.url("/")) is None, "not JSON"
        server.route("/api/sites", body=json.dumps({"sites": [{"slug": "dr-a", "comments_version": "v1"}]}),
                     content_type="application/json")
        assert freshness.fetch(server.url("/")) is None, "api/threads/active missing"
        server.route("/api/threads/active", body=json.dumps({"threads": []}), content_type="application/json")
        state = freshness.fetch(server.url("/"))
        assert state is not None and state.versions == {"dr-a": "v1"}
    assert freshness.fetch("") is None
