"""Fixtures for the static side: a small real network on disk, built by the real build."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from confreres import registry

# Where a test network's comment service is when the test serves none: the discard port, on which nothing
# listens (unprivileged users cannot bind it), so every call is refused at once, whether or not a
# developer's `make demo` answers on 127.0.0.1:8000, the port of the sites' URLs.
NO_SERVICE = "http://127.0.0.1:9/comments/"



def write_post(site_dir: Path, slug: str, title: str, date: str = "2025-03-01 09:00", body: str = "", **meta) -> Path:
    lines = [f"Title: {title}", f"Date: {date}", "Category: Pratique", "Tags: essai, réseau", f"Slug: {slug}"]
    lines += [f"{key.capitalize()}: {value}" for key, value in meta.items()]
    text = "\n".join(lines) + "\n\n" + (body or f"Un billet de test, « {title} », avec un [lien](https://www.has-sante.fr/).") + "\n"
    path = site_dir / "content" / f"{slug}.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def make_network(tmp_path):
    """make_network(slugs=("dr-a", "dr-b"), posts=3) -> Network on disk under tmp_path, not built.

    Its comment service is NO_SERVICE unless `comments_url` says where a test serves one.
    """

    def make(slugs=("dr-a", "dr-b"), posts=3, base="http://127.0.0.1:8000/",
             comments_url=NO_SERVICE) -> registry.Network:
        root = tmp_path / "network"
        root.mkdir(exist_ok=True)
        parts = [
            textwrap.dedent(
                f"""\
                # test network
                [network]
                name = "Réseau d'essai"
                url = "{base}"
                comments_url = "{comments_url}"
                output = "public"
                """
            )
        ]
        for index, slug in enumerate(slugs):
            parts.append(
                f'[[sites]]\nslug = "{slug}"\ntitle = "Blog {slug}"\nauthor = "Dr {slug.title()}"\n'
                f'specialty = "Médecine générale"\nurl = "{base}{slug}/"\n'
            )
            site = root / "sites" / slug
            (site / "content" / "pages").mkdir(parents=True, exist_ok=True)
            (site / "content" / "pages" / "a-propos.md").write_text(
                "Title: À propos\nSlug: a-propos\n\nPage de présentation.\n", encoding="utf-8"
            )
            for n in range(posts):
                write_post(site, f"{slug}-billet-{n}", f"Billet {n} de {slug}", date=f"2025-0{1 + n % 9}-{10 + index % 19} 10:00")
        (root / "network.toml").write_text("\n".join(parts), encoding="utf-8")
        return registry.load(root / "network.toml")

    return make
