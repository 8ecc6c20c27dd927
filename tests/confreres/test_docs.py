"""The documentation: every relative link of README.md and docs/*.md points to a file that exists and, when it
names an anchor, to a heading of that file (GitHub's anchors)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*)$", text, re.M)}


def _links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return [m.group(1) for m in LINK.finditer(text)]


def test_docs_exist():
    assert len(DOCS) > 1, "docs/*.md is missing"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    for link in _links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", link):  # http:, https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        path = (doc.parent / target).resolve() if target else doc
        assert path.exists(), f"{doc.relative_to(ROOT)}: {link} -> {path} does not exist"
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path), f"{doc.relative_to(ROOT)}: {link}: no heading #{anchor} in {path.name}"


def test_slug_matches_github():
    assert _slug("Blog authors' badges") == "blog-authors-badges"
    assert _slug("Publishing with `git push`") == "publishing-with-git-push"
    assert _slug("Moving a blog from WordPress; exports and backups") == "moving-a-blog-from-wordpress-exports-and-backups"


def test_the_readme_says_which_html_files_a_push_may_carry(make_network):
    """`.html` posts are refused, `.html`/`.js` files under content/extra/ are accepted: the README says both, and
    that the CSP never runs their scripts (scripts only from the theme's and Pagefind's folders)."""
    from confreres import csp, publish

    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert publish.check_path("100644", "content/extra/page.html") == ""
    assert publish.check_path("100644", "content/extra/outil.js") == ""
    assert "Markdown" in publish.check_path("100644", "content/page.html")
    assert "an `.rst` or `.html` file elsewhere in `content/` is refused" in readme
    assert "A pushed `.html` or `.js` file under `content/extra/`" in readme and "no script in it ever runs" in readme
    network = make_network(slugs=("dr-a",), posts=0)
    scripts = next(part for part in csp.policy(network).split("; ") if part.startswith("script-src")).split()[1:]
    assert scripts and all(s.endswith(("/theme/js/", "/pagefind/")) or s == "'wasm-unsafe-eval'" for s in scripts)


def test_moving_a_blog_in_ends_with_the_build_that_writes_the_imported_comments():
    """README's and comments.md's move-in commands stopped at `import comments`: the pages then read « Aucun
    commentaire pour l'instant » until cron's build (tests/confreres/test_fresh_comments.py shows the build)."""
    for doc in (ROOT / "README.md", ROOT / "docs" / "comments.md"):
        block = next(b for b in FENCE.findall(doc.read_text(encoding="utf-8")) if "import comments" in b)
        lines = [line.split("#")[0].strip() for line in block.splitlines() if line.startswith("confreres ")]
        assert lines[-2].startswith("confreres import comments"), doc
        assert lines[-1].startswith("confreres build --site"), doc
