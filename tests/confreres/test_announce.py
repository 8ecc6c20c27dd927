"""`confreres build` tells the comment service every blog's posts, or says which it could not (issue 10, item 13).

A real network on disk built by the real build, and the real comment service over HTTP on 127.0.0.1 with
its real write limit (10 a minute per address): twelve blogs built at once are all announced (announces
have their own budget per blog, signed by the site token); a blog added to network.toml after the
service started is known to it; the service down or refusing makes the build exit 1 naming the blog, in
French, and the next build tries that blog again.
"""

from __future__ import annotations

import threading

import httpx
import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from comments_service import create_app
from confreres import build
from confreres.cli import cli
from tests.confreres.conftest import NO_SERVICE

SECRET = "announce-test-secret"


class Service:
    """The comment service on a free port; `fail_next(n, status)` answers the next n requests with `status`."""

    def __init__(self, tmp_path, network_file, secret=SECRET, port=0):
        self.app = create_app({
            "TESTING": True, "SECRET_KEY": secret, "NETWORK": str(network_file), "DB": str(tmp_path / "c.sqlite3"),
            "READ_RATE_LIMIT": "off",  # RATE_LIMIT stays the default: 10 writes a minute per address
        })
        self.failures: list[int] = []
        self.calls = 0
        self.httpd = make_server("127.0.0.1", port, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _wsgi(self, environ, start):
        self.calls += 1
        if self.failures:
            status = self.failures.pop(0)
            start(f"{status} Failing", [("Content-Length", "0")])
            return [b""]
        return self.app(environ, start)

    def thread_status(self, url: str) -> int:
        return httpx.get(self.url + "api/comments", params={"url": url}, timeout=10).status_code

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(tmp_path, make_network, monkeypatch):
    """(make(slugs) -> network on disk whose comments_url is the running service, the service)."""
    monkeypatch.setenv("CONFRERES_SECRET_KEY", SECRET)
    holder = {}

    def make(slugs, secret=SECRET):
        # the port is known once the server listens, the network file must name it: write, start, rewrite
        network = make_network(slugs=slugs, posts=1, comments_url=holder["service"].url if holder else NO_SERVICE)
        if not holder:
            holder["service"] = Service(tmp_path, network.source, secret)
            network = make_network(slugs=slugs, posts=1, comments_url=holder["service"].url)
        return network, holder["service"]

    yield make
    if holder:
        holder["service"].stop()


def post_url(network, slug: str) -> str:
    return f"{network.site(slug).url}{slug}-billet-0.html"


def run_build(network):
    return CliRunner().invoke(cli, ["--network", str(network.source), "build", "--quiet", "--jobs", "2"])


def test_twelve_blogs_are_all_announced_in_one_build(served):
    slugs = tuple(f"dr-{n:02d}" for n in range(12))
    network, service = served(slugs)
    result = run_build(network)
    assert result.exit_code == 0, result.output
    assert "non annoncés" not in result.output
    assert {slug: service.thread_status(post_url(network, slug)) for slug in slugs} == dict.fromkeys(slugs, 200)


def test_a_blog_added_after_the_service_started_is_announced(served):
    network, service = served(("dr-a", "dr-b"))
    assert run_build(network).exit_code == 0
    network, _ = served(("dr-a", "dr-b", "dr-c"))  # network.toml gains a blog; the service keeps running
    result = run_build(network)
    assert result.exit_code == 0, result.output
    url = post_url(network, "dr-c")
    assert service.thread_status(url) == 200
    comment = httpx.post(service.url + "api/comments", json={"url": url, "text": "Bienvenue, consœur."}, timeout=10)
    assert comment.status_code == 201, comment.text


def test_the_service_down_fails_the_build_naming_the_blog_and_the_next_build_retries(make_network, monkeypatch):
    monkeypatch.setenv("CONFRERES_SECRET_KEY", SECRET)
    monkeypatch.setattr(build, "ANNOUNCE_BACKOFF", 0)
    network = make_network(slugs=("dr-a",), posts=1)  # its comment service: nothing listens there
    result = run_build(network)
    assert result.exit_code == 1, result.output
    assert "✓ dr-a" in result.output, "the blog itself is built"
    assert "billets de « Blog dr-a » (dr-a) non annoncés au service de commentaires : service injoignable" in result.output
    assert "Billets non annoncés au service de commentaires : dr-a" in result.output
    again = run_build(network)
    assert again.exit_code == 1 and "✓ dr-a (1 billet," in again.output, "not « inchangé »: announced again"


def test_a_refusing_service_fails_the_build_with_its_reason(served):
    network, service = served(("dr-a",), secret="another-secret")  # the build signs with SECRET: refused
    result = run_build(network)
    assert result.exit_code == 1, result.output
    assert "(dr-a) non annoncés au service de commentaires : le service a répondu 403 : Jeton du blog invalide. " \
        "Les commentaires" in result.output
    assert ".." not in result.output.replace("…", "")


def test_announcing_retries_server_errors_and_rate_limits(served):
    network, service = served(("dr-a",))
    posts = [{"url": post_url(network, "dr-a"), "title": "Billet 0"}]
    service.failures = [503, 429]
    assert build.announce_posts(network, network.site("dr-a"), posts, backoff=0) is True
    assert service.calls == 3 and service.thread_status(posts[0]["url"]) == 200
    service.failures = [502, 502, 502]
    import io

    out = io.StringIO()
    assert build.announce_posts(network, network.site("dr-a"), posts, out=out, backoff=0) is False
    assert "le service a répondu 502" in out.getvalue() and "« Blog dr-a » (dr-a)" in out.getvalue()


def test_a_push_whose_posts_the_service_cannot_take_says_so_and_the_next_build_retries(make_network, tmp_path,
                                                                                      monkeypatch):
    """The hook has the blog's token but the service is down: the blog is published (it is live: refusing the
    push would only put git and the site at odds), the doctor reads in French why comments wait, and the
    server's next `confreres build` rebuilds the blog, announces again, and fails while it cannot."""
    from confreres import publish
    from tests.confreres.test_publish import git

    monkeypatch.setenv("CONFRERES_SECRET_KEY", SECRET)  # publish init writes the blog's token from it
    monkeypatch.setattr(build, "ANNOUNCE_BACKOFF", 0)
    network = make_network(slugs=("dr-a",), posts=1)  # its comment service: nothing listens there
    repo = publish.init(network, "dr-a", tmp_path / "repos" / "dr-a.git")
    assert (repo / publish.TOKEN_FILE).is_file()
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone))
    (clone / "content" / "nouveau.md").write_text(
        "Title: Nouveau\nDate: 2025-05-02 07:00\nCategory: Pratique\nSlug: nouveau\n\nUn billet.\n", encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Nouveau billet", cwd=clone)
    pushed = git("push", "origin", "main", cwd=clone)
    assert "billets de « Blog dr-a » (dr-a) non annoncés au service de commentaires : service injoignable" \
        in pushed.stderr
    assert "la prochaine construction du serveur les annoncera de nouveau" in pushed.stderr
    again = run_build(network)
    assert again.exit_code == 1 and "✓ dr-a (2 billets" in again.output, again.output


def test_a_service_restarted_on_an_empty_database_is_told_the_posts_again(served, tmp_path):
    """Issue 12: a database started empty (a new server, an older backup) learns the posts at the next cron build,
    from the blogs' published posts.json, without a Pelican run."""
    network, service = served(("dr-a", "dr-b"))
    assert run_build(network).exit_code == 0
    port = service.httpd.server_port
    service.stop()
    (tmp_path / "restored").mkdir()
    restored = Service(tmp_path / "restored", network.source, port=port)  # same address, empty database
    try:
        url = post_url(network, "dr-a")
        assert restored.thread_status(url) == 404
        result = run_build(network)
        assert result.exit_code == 0, result.output
        for slug in ("dr-a", "dr-b"):
            assert f"✓ {slug} (inchangé)" in result.output, "no Pelican run"
            assert f"↻ {slug} : billets inconnus du service de commentaires, annoncés de nouveau " \
                "(1 billet, sans reconstruction)" in result.output
        comment = httpx.post(restored.url + "api/comments", json={"url": url, "text": "Bienvenue, consœur."}, timeout=10)
        assert comment.status_code == 201, comment.text
        again = run_build(network)
        assert again.exit_code == 0 and "↻" not in again.output, again.output
    finally:
        restored.stop()


def test_the_service_logs_once_a_blog_it_knows_no_post_of(served, caplog):
    """Issue 12: a comment or a thread read on a blog whose posts were never announced says so in the log, once."""
    network, service = served(("dr-a",))  # never built: the service knows none of its posts
    url = post_url(network, "dr-a")
    with caplog.at_level("WARNING", logger="comments_service"):
        for _ in range(2):
            refused = httpx.post(service.url + "api/comments", json={"url": url, "text": "Bonjour."}, timeout=10)
            assert refused.status_code == 404 and refused.json()["error"]["code"] == "unknown_post"
            assert service.thread_status(url) == 404
    said = [r.getMessage() for r in caplog.records if "knows no post of the blog dr-a" in r.getMessage()]
    assert len(said) == 1, said


def test_after_a_push_announced_to_the_service_the_next_build_finds_the_blog_current(served, tmp_path):
    """The push builds the blog from a copy of its own (a temporary folder): where the sources were read from is not
    what they say, and the cron's next `confreres build` found the blog changed and built it again for nothing."""
    from confreres import publish
    from tests.confreres.test_publish import git

    network, _service = served(("dr-a",))
    assert run_build(network).exit_code == 0
    repo = publish.init(network, "dr-a", tmp_path / "repos" / "dr-a.git")
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone))
    (clone / "content" / "nouveau.md").write_text("Title: Nouveau\nDate: 2025-05-02 07:00\n\nUn billet.\n",
                                                  encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Nouveau billet", cwd=clone)
    pushed = git("push", "origin", "main", cwd=clone)
    assert "non annoncés" not in pushed.stderr and "Nouveau" in pushed.stderr, pushed.stderr
    after = {r.slug: r for r in build.build(network, progress=False)}
    assert after["dr-a"].skipped, f"built again ({after['dr-a'].reason}) after the push"
