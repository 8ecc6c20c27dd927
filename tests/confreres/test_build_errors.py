"""A blog that does not build says why in French, naming the doctor's file, before anything is written."""

from __future__ import annotations

import pytest

from confreres import build, publish
from tests.confreres.conftest import write_post
from tests.confreres.test_publish import git

ENGLISH = ("FileOverwriteFailedError", "OSError", "Traceback", "Could not process", "Skipping", "build failed")


def post(site, name: str, text: str | bytes):
    path = site / "content" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def same_title(site):
    for n in range(10):
        post(site, f"super-{n}.md", f"Title: This is a super article\nDate: 2025-02-0{n % 9 + 1}\n\nTexte {n}.\n")


def tag_page_two(site):
    """Twelve posts tagged « garde » (two pages of ten) and a post whose Slug is the tag's second page."""
    for n in range(12):
        post(site, f"garde-{n}.md", f"Title: Garde {n}\nDate: 2025-02-{n + 1:02d}\nTags: garde\n\nTexte {n}.\n")
    post(site, "page-deux.md", "Title: Page deux\nDate: 2025-03-01\nSlug: tag/garde2\n\nTexte.\n")


def slug_of_theme_page(slug):
    return lambda site: post(site, "mon-billet.md", f"Title: Mon billet\nDate: 2025-02-01\nSlug: {slug}\n\nTexte.\n")


CASES = {
    # name: (write the broken content, what the message must say, the files it must name)
    "ten posts with one title": (same_title, "même fichier « this-is-a-super-article.html »",
                                 [f"content/super-{n}.md" for n in range(10)]),
    "Slug: categories": (slug_of_theme_page("categories"), "liste des catégories", ["content/mon-billet.md"]),
    "Slug: tags": (slug_of_theme_page("tags"), "liste des mots-clés", ["content/mon-billet.md"]),
    "Slug: archives": (slug_of_theme_page("archives"), "archives du blog", ["content/mon-billet.md"]),
    "Slug: index": (slug_of_theme_page("index"), "page d'accueil", ["content/mon-billet.md"]),
    "Slug: outside": (slug_of_theme_page("../../ailleurs"), "sortirait du blog", ["content/mon-billet.md"]),
    "Slug: a tag's second page": (tag_page_two, "la page du mot-clé « garde » (content/garde-0.md, content/garde-1.md,"
                                  " content/garde-10.md, content/garde-11.md, content/garde-2.md et 7 autres) (page 2)",
                                  ["« tag/garde2.html »", "content/page-deux.md"]),
    "Slug: a page's": (slug_of_theme_page("pages/a-propos"), "même fichier « pages/a-propos.html »",
                       ["content/mon-billet.md", "content/pages/a-propos.md"]),
    "Save_as: the sitemap": (lambda site: post(site, "pages/plan.md", "Title: Plan\nSave_as: sitemap.xml\n\nPlan.\n"),
                             "plan du site", ["content/pages/plan.md"]),
    "Save_as: a feed": (lambda site: post(site, "pages/flux.md", "Title: Flux\nSave_as: feeds/all.atom.xml\n\nx\n"),
                        "flux du blog", ["content/pages/flux.md"]),
    "Save_as: the theme": (lambda site: post(site, "pages/css.md", "Title: CSS\nSave_as: theme/css/main.css\n\nx\n"),
                           "réservé au thème", ["content/pages/css.md"]),
    "67 categories": (lambda site: post(site, "long.md", "Title: Long\nDate: 2025-02-01\nCategory: " + ", ".join(
        f"Catégorie numéro {i}" for i in range(67)) + "\n\nTexte.\n"), "une seule catégorie par billet",
        ["content/long.md"]),
    "a very long title": (lambda site: post(site, "titre.md", "Title: " + "Très long titre " * 25 + "\nDate: 2025-02-01"
                                            "\n\nTexte.\n"), "nom de fichier trop long", ["content/titre.md"]),
    "a very long tag": (lambda site: post(site, "tag.md", "Title: T\nDate: 2025-02-01\nTags: court, " + "mot" * 100 +
                                          "\n\nTexte.\n"), "changez le mot-clé", ["content/tag.md"]),
    "a bad date": (lambda site: post(site, "date.md", "Title: D\nDate: hier soir\n\nT.\n"), "Date: 2026-03-14 08:30",
                   ["content/date.md"]),
    "no title": (lambda site: post(site, "sans-titre.md", "Date: 2025-02-01\n\nT.\n"), "il manque le titre",
                 ["content/sans-titre.md"]),
    "no date": (lambda site: post(site, "sans-date.md", "Title: S\n\nT.\n"), "il manque la date",
                ["content/sans-date.md"]),
    "latin-1": (lambda site: post(site, "latin.md", "Title: Café\nDate: 2025-02-01\n\nÀ la page.\n".encode("latin-1")),
                "UTF-8", ["content/latin.md"]),
    "an empty file": (lambda site: post(site, "vide.md", ""), "le fichier est vide", ["content/vide.md"]),
    "an unknown status": (lambda site: post(site, "statut.md", "Title: S\nDate: 2025-02-01\nStatus: brouillon\n\nT.\n"),
                          "« Status: brouillon » n'existe pas", ["content/statut.md"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_broken_content_is_refused_in_french_naming_its_file(make_network, case):
    network = make_network(slugs=("dr-a",), posts=1)
    breaks, says, files = CASES[case]
    breaks(network.site("dr-a").path)
    [result] = build.build(network, progress=False)
    assert not result.ok
    assert result.error.startswith("dr-a : le blog ne se construit pas :"), result.error
    assert says in result.error, result.error
    for name in files:
        assert name in result.error, (name, result.error)
    assert not any(word in result.error for word in ENGLISH), result.error
    assert not (network.output / "dr-a").exists(), "nothing half-built goes live"


def test_a_colliding_push_is_refused_naming_both_files(make_network, tmp_path):
    network = make_network(slugs=("dr-a",), posts=1)
    write_post(network.site("dr-a").path, "premier", "Le même titre")
    assert all(r.ok for r in build.build(network, progress=False))
    live = (network.output / "dr-a").resolve()
    repo = publish.init(network, "dr-a", tmp_path / "repos" / "dr-a.git")
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone))
    post(clone, "second.md", "Title: Le même titre\nDate: 2025-02-01\nSlug: premier\n\nUn autre texte.\n")
    post(clone, "long.md", "Title: Long\nDate: 2025-02-01\nCategory: " + ", ".join(f"Catégorie {i}" for i in range(67))
         + "\n\nTexte.\n")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Deux billets", cwd=clone)
    pushed = git("push", "origin", "main", cwd=clone, check=False)
    assert pushed.returncode != 0 and "REFUSÉE" in pushed.stderr
    lines = [line.removeprefix("remote: ") for line in pushed.stderr.splitlines()]
    [collision] = [line for line in lines if "même fichier « premier.html »" in line]
    assert "content/premier.md" in collision and "content/second.md" in collision
    [too_long] = [line for line in lines if "trop long" in line]
    assert "content/long.md" in too_long and "une seule catégorie" in too_long
    assert (network.output / "dr-a").resolve() == live


PUSHED = {
    "site.toml": ({"site.toml": "pagination = 0\n"}, ["- site.toml : pagination : doit être entre 1 et 100"]),
    "{static} out of content/": ({"content/lien.md": "Title: L\nDate: 2025-02-01\n\n[r]({static}../../network.toml)\n"},
                                 ["- content/lien.md : lien {static} ou {attach} vers « ../../network.toml »"]),
    "Slug of a tag page": ({**{f"content/t{n}.md": f"Title: T{n}\nDate: 2025-02-0{n + 1}\nTags: garde\n\nx\n"
                               for n in range(3)},
                            "content/x.md": "Title: X\nDate: 2025-02-05\nSlug: tag/garde\n\nx\n"},
                           ["- 2 pages seraient publiées dans le même fichier « tag/garde.html » : content/x.md ; "
                            "la page du mot-clé « garde » (content/t0.md, content/t1.md, content/t2.md). Pour corriger : "
                            "donnez à content/x.md un autre « Slug: » (ou un autre titre) ou changez le mot-clé « garde » "
                            "dans content/t0.md, content/t1.md, content/t2.md."]),
}


@pytest.mark.parametrize("case", list(PUSHED))
def test_a_refused_push_names_files_as_in_the_doctors_clone(make_network, tmp_path, case):
    """The pusher reads `site.toml` (not the server's temporary folder), the post that holds a bad link, and a
    collision whose count, list and advice agree."""
    network = make_network(slugs=("dr-a",), posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    repo = publish.init(network, "dr-a", tmp_path / "repos" / "dr-a.git")
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone))
    files, lines = PUSHED[case]
    for name, text in files.items():
        (clone / name).write_text(text, encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Essai", cwd=clone)
    pushed = git("push", "origin", "main", cwd=clone, check=False)
    assert pushed.returncode != 0 and "REFUSÉE" in pushed.stderr
    said = [line.removeprefix("remote: ").strip() for line in pushed.stderr.splitlines()]
    for line in lines:
        assert any(s.startswith(line) for s in said), (line, said)
    assert "site/site.toml" not in pushed.stderr
