"""`confreres deploy nginx`: the shipped template filled from network.toml, or a French refusal saying why."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from confreres.cli import cli
from confreres.deploy import MARKER, DeployError, render


def deploy_nginx(network, *args):
    return CliRunner().invoke(cli, ["--network", str(network.source), "deploy", "nginx", *args])


def test_the_site_is_filled_from_network_toml(make_network):
    network = make_network(base="https://confreres.example/", comments_url="https://confreres.example/comments/")
    result = deploy_nginx(network, "--listen", "8080", "--gunicorn", "unix:/run/confreres.sock")
    assert result.exit_code == 0, result.output
    site = result.output
    code = "\n".join(line for line in site.splitlines() if not line.lstrip().startswith("#"))
    assert not MARKER.search(code), MARKER.findall(code)
    assert "listen 8080;" in site and "server_name confreres.example;" in site
    assert f"root {network.output};" in site and "server unix:/run/confreres.sock;" in site
    assert "location /comments/ {" in site and "X-Forwarded-Prefix /comments;" in site
    assert '"<https://confreres.example/comments/webmention>; rel=\\"webmention\\""' in site
    csp_lines = CliRunner().invoke(cli, ["--network", str(network.source), "csp", "--nginx"]).output.splitlines()
    assert all(f"        {line}" in site.splitlines() for line in csp_lines)  # indented inside `location /`


@pytest.mark.parametrize("comments_url, blog, message", [
    ("https://commentaires.example/", None, "sous un chemin de l'origine du réseau"),
    ("https://confreres.example/comments/", "https://dr-b.example/", "dr-b : url = https://dr-b.example/"),
])
def test_another_layout_is_refused_with_the_reason(make_network, comments_url, blog, message):
    network = make_network(base="https://confreres.example/", comments_url=comments_url)
    if blog:
        text = network.source.read_text(encoding="utf-8").replace("https://confreres.example/dr-b/", blog)
        network.source.write_text(text, encoding="utf-8")
    result = deploy_nginx(network)
    assert result.exit_code == 1 and message in result.output, result.output


def test_a_marker_without_a_value_is_an_error_except_in_comments():
    assert render("# @ROOT@: the site\nroot @ROOT@;\n", {"ROOT": "/srv"}) == "# @ROOT@: the site\nroot /srv;\n"
    assert render("  @LINES@\n", {"LINES": "a;\nb;"}) == "  a;\n  b;\n"
    with pytest.raises(DeployError, match="@ROOT@"):
        render("root @ROOT@;\n", {})
