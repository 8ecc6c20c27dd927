"""The blogs' and the planet's Content-Security-Policy: what `confreres csp` prints is what `serve` sends."""

from __future__ import annotations

from click.testing import CliRunner
from werkzeug.test import Client

from confreres import csp, serve
from confreres.cli import cli


def test_serve_sends_the_policy_that_confreres_csp_prints(make_network):
    network = make_network(slugs=("dr-a", "dr-b"), posts=1, comments_url="https://commentaires.example/")
    printed = CliRunner().invoke(cli, ["--network", str(network.source), "csp"])
    assert printed.exit_code == 0, printed.output
    policy = printed.output.strip()
    assert policy == csp.policy(network)
    directives = dict(d.split(" ", 1) for d in policy.split("; ") if " " in d)
    scripts = directives["script-src"].split()
    assert scripts == [f"{network.site('dr-a').url}theme/js/", f"{network.site('dr-b').url}theme/js/",
                       f"{network.url}theme/js/", f"{network.url}pagefind/", "'wasm-unsafe-eval'"]
    for name in ("connect-src", "form-action", "img-src", "style-src"):
        assert "https://commentaires.example" in directives[name].split(), name
        assert "'unsafe-inline'" not in directives[name] and "*" not in directives[name]
    nginx = CliRunner().invoke(cli, ["--network", str(network.source), "csp", "--nginx"]).output
    assert f'add_header Content-Security-Policy "{policy}" always;' in nginx and "nosniff" in nginx

    network.output.mkdir(parents=True, exist_ok=True)
    (network.output / "index.html").write_text("<!doctype html><title>x</title>", encoding="utf-8")
    client = Client(serve.make_app(network, network.output))
    for path in ("/", "/inconnu.html"):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == policy, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
