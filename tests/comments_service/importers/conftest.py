"""What every importer's tests start from: the service's database with dr-b's posts as the test declares them,
and the environment `confreres import …` reads."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from comments_service.actions.posts import sync_posts
from comments_service.core.db import connect


@pytest.fixture
def blog_b(app, network_file, monkeypatch):
    network = app.extensions["confreres_network"]
    db = connect(app.config["DB"])
    monkeypatch.setenv("CONFRERES_DB", app.config["DB"])
    monkeypatch.setenv("CONFRERES_SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("CONFRERES_NETWORK", str(network_file))

    def declare(posts: list[dict]) -> None:
        """dr-b's posts, as a build would announce them after the posts' import."""
        sync_posts(db, network, "dr-b", {"posts": posts})

    yield SimpleNamespace(db=db, network=network, network_file=network_file, declare=declare)
    db.close()
