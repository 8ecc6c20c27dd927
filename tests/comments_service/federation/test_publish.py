"""A real `confreres build` (Pelican) announcing a blog's posts to the listening service: the followers' instance
receives the new post as a Create(Article) with its sanitised HTML and tags, and the build says, in French, how
many deliveries it queued; `confreres federation deliver` and `status` for cron and the operator."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from comments_service.federation import delivery
from confreres.cli import cli
from tests.comments_service.federation.conftest import wait_for
from tests.confreres.conftest import make_network, write_post  # noqa: F401 (fixture)
from tests.conftest import SECRET


def test_a_build_delivers_its_new_post_and_says_so(service, peer, make_network, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CONFRERES_SECRET_KEY", SECRET)
    network = make_network(slugs=("dr-a",), posts=1, base=service.origin + "/",
                           comments_url=service.origin + "/comments/")
    runner = CliRunner()
    first = runner.invoke(cli, ["--network", str(network.source), "build", "--quiet", "--jobs", "1"])
    assert first.exit_code == 0, first.output
    assert "Fédivers" not in first.output, "no follower yet: nothing queued, nothing said"
    from bs4 import BeautifulSoup

    page = BeautifulSoup((network.output / "dr-a" / "index.html").read_text(encoding="utf-8"), "html.parser")
    (alternate,) = page.find_all("link", type="application/activity+json")
    assert alternate["rel"] == ["alternate"] and alternate["href"] == service.actor_url("dr-a")
    assert httpx.get(alternate["href"], headers={"Accept": "application/activity+json"}).json()["preferredUsername"] == "dr-a"
    assert f"Suivre sur le fédivers : @dr-a@{service.host}" in page.find(class_="fediverse-handle").get_text()

    assert peer.follow(service.actor_url("dr-a") + "/inbox", service.actor_url("dr-a"))[1].status_code == 202
    wait_for(lambda: peer.of_type("Accept"))
    write_post(network.site("dr-a").path, "nouveau", "Un nouveau billet", date="2025-04-01 10:00",
               body="Du <script>alert(1)</script>**gras** et un [lien](https://www.has-sante.fr/).")
    second = runner.invoke(cli, ["--network", str(network.source), "build", "--quiet", "--jobs", "1"])
    assert second.exit_code == 0, second.output
    assert "Fédivers : 1 livraison mise en file pour les abonnés de « Blog dr-a » (dr-a)" in second.output

    (create,) = wait_for(lambda: peer.of_type("Create"))
    assert create.verified, create.problem
    article = create.activity["object"]
    assert article["name"] == "Un nouveau billet" and article["url"] == service.url("/dr-a/nouveau.html")
    assert "<strong>gras</strong>" in article["content"] and "<script" not in article["content"]
    assert {tag["name"] for tag in article["tag"]} == {"#essai", "#réseau"}


def test_deliver_and_status_commands(make_service, peer, tmp_path):
    service = make_service(FEDERATION_SEND="cron")
    assert peer.follow(service.actor_url("dr-a") + "/inbox", service.actor_url("dr-a"))[1].status_code == 202
    runner = CliRunner()
    network_file = service.network.source
    env = {"CONFRERES_DB": service.app.config["DB"], "CONFRERES_SECRET_KEY": SECRET,
           "CONFRERES_OUTGOING_ALLOW_HOSTS": "127.0.0.1"}
    status = runner.invoke(cli, ["--network", str(network_file), "federation", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert f"@dr-a@{service.host} : 1 abonné" in status.output and f"@planete@{service.host} : 0 abonné" in status.output
    assert "File : 1 livraison en attente" in status.output
    sent = runner.invoke(cli, ["--network", str(network_file), "federation", "deliver"], env=env)
    assert sent.exit_code == 0, sent.output
    assert "1 livraison envoyée sur 1." in sent.output and peer.of_type("Accept")
    assert delivery.deliver(service.app) == []


def test_the_operators_stand_in_instance(service):
    """`confreres federation peer`: follow a blog, see the Accept arrive signed, reply to a post, undo."""
    post_url = service.url("/dr-a/premier.html")
    service.announce("dr-a", [{"url": post_url, "title": "Premier", "date": "2024-03-01"}])
    commands = (f"suivre @dr-a@{service.host}\nattendre 2\nrepondre {post_url} Bonjour depuis le fédivers\n"
                "annuler\nquitter\n")
    result = CliRunner().invoke(cli, ["federation", "peer", "--port", "0", "--name", "bob"], input=commands)
    assert result.exit_code == 0, result.output
    assert f"→ Follow {service.actor_url('dr-a')} : 202" in result.output
    assert f"← Accept (Follow) de {service.actor_url('dr-a')}" in result.output
    assert "[signature vérifiée]" in result.output
    assert f"→ Create(Note) en réponse à {post_url} : 202" in result.output
    assert f"→ Undo(Follow) {service.actor_url('dr-a')} : 202" in result.output
    assert service.sql("SELECT author_name, status FROM comments") == [("bob (instance d'essai)", "pending")]
    assert service.followers("dr-a") == 0
