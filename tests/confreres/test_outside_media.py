"""Images and players a post loads from outside the network are not shown (the CSP): the build and the push say
which, naming the file; links, the network's own images and `{static}` ones are not named."""

from __future__ import annotations

from click.testing import CliRunner

from confreres import build
from confreres.checks import OUTSIDE_SHOWN
from confreres.cli import cli
from tests.confreres.conftest import write_post
from tests.confreres.test_publish_safety import server  # noqa: F401 (the fixture)

BODY = """\
Une radio : ![radio](https://cdn.example.org/radio.png) et une autre, du réseau :
![autre](http://127.0.0.1:8000/dr-b/images/autre.png), une locale ![locale]({static}/images/locale.png).

<iframe src="https://www.youtube.com/embed/abcdefghijk"></iframe>

Un [lien vers une image](https://cdn.example.org/lien.png) n'est pas chargé par la page.
"""


def test_the_build_names_what_a_post_loads_from_elsewhere(make_network):
    network = make_network(slugs=("dr-a", "dr-b"), posts=1)
    site = network.site("dr-a")
    (site.path / "content" / "images").mkdir()
    (site.path / "content" / "images" / "locale.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    write_post(site.path, "radio", "La radio", body=BODY)
    write_post(site.path, "brouillon", "Brouillon", body="![x](https://cdn.example.org/brouillon.png)", status="draft")
    results = {r.slug: r for r in build.build(network, progress=False)}
    assert results["dr-a"].ok
    assert results["dr-a"].outside == [
        "content/radio.md : image hébergée ailleurs, non affichée sur le réseau (https://cdn.example.org/radio.png) : "
        "copiez-la dans content/images/ et liez-la par {static}/images/…",
        "content/radio.md : lecteur intégré hébergé ailleurs, non affiché sur le réseau "
        "(https://www.youtube.com/embed/abcdefghijk) : mettez plutôt un lien vers la page où le voir",
    ], "a draft is not published: not named"
    assert results["dr-b"].outside == []

    result = CliRunner().invoke(cli, ["--network", str(network.source), "build", "--site", "dr-a", "--force",
                                      "--no-announce"])
    assert result.exit_code == 0, result.output
    assert "⚠ content/radio.md : image hébergée ailleurs" in result.output


def test_a_long_list_is_cut_short(make_network):
    network = make_network(slugs=("dr-a",), posts=0)
    site = network.site("dr-a")
    body = "\n\n".join(f"![{n}](https://cdn.example.org/{n}.png)" for n in range(OUTSIDE_SHOWN + 5))
    write_post(site.path, "album", "Album", body=body)
    [result] = [r for r in build.build(network, progress=False) if r.slug == "dr-a"]
    assert len(result.outside) == OUTSIDE_SHOWN + 1 and result.outside[-1] == "… et 5 autres du même genre"


def test_the_push_says_it_too(server):  # noqa: F811
    _network, _, _, push = server
    pushed = push({"content/radio.md": "Title: La radio\nDate: 2024-03-12 08:30\n\n"
                                       "![radio](https://cdn.example.org/radio.png)\n"})
    assert pushed.returncode == 0, pushed.stderr
    assert "non affichés sur le réseau, qui ne charge que ses propres images" in pushed.stderr
    assert "content/radio.md : image hébergée ailleurs, non affichée sur le réseau (https://cdn.example.org/radio.png)" \
        in pushed.stderr
