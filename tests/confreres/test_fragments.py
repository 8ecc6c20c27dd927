"""`once` (confreres.fragments): a part of the pages made once per blog build, never another blog's or page's."""

from __future__ import annotations

import re

import jinja2

from confreres import build
from confreres.fragments import JINJA_GLOBALS

TEMPLATE = '{% call once("part", base) %}<p>{{ name }} {{ base }}</p>{% endcall %}|{{ name }}'


def test_a_part_is_made_once_per_environment_and_again_in_another():
    environment = jinja2.Environment()
    environment.globals.update(JINJA_GLOBALS)
    template = environment.from_string(TEMPLATE)
    assert template.render(name="a", base="/") == "<p>a /</p>|a"
    assert template.render(name="b", base="/") == "<p>a /</p>|b"  # kept: the part must read nothing that changes
    assert template.render(name="b", base="..") == "<p>b ..</p>|b"  # ... but what it is made for (relative URLs)
    other = jinja2.Environment()
    other.globals.update(JINJA_GLOBALS)
    assert other.from_string(TEMPLATE).render(name="b", base="/") == "<p>b /</p>|b"


def _part(html: str, pattern: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match.group(0)


def test_each_blog_of_a_build_shows_its_own_footer_and_author_box_on_every_page(make_network):
    """Blogs built one after the other in one process (`-j 1`) each make theirs: the footer names the blog itself
    as current, the author box its author and its own « À propos »; every page of a blog shows the same."""
    network = make_network(slugs=("dr-a", "dr-b"), posts=3)
    results = build.build(network, jobs=1, force=True, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    out = network.output
    for slug, other in (("dr-a", "dr-b"), ("dr-b", "dr-a")):
        pages = sorted((out / slug).glob(f"{slug}-billet-*.html"))
        assert len(pages) == 3
        footers, boxes = set(), set()
        for page in pages + [out / slug / "index.html", out / slug / "archives.html"]:
            html = page.read_text(encoding="utf-8")
            footers.add(_part(html, r'<footer class="site-footer">.*?</footer>'))
            if page in pages:
                boxes.add(_part(html, r'<aside class="author-box.*?</aside>'))
        assert len(footers) == 1 and len(boxes) == 1
        footer, box = footers.pop(), boxes.pop()
        assert f'<a href="http://127.0.0.1:8000/{slug}/" aria-current="true">Blog {slug}</a>' in footer
        assert f'href="http://127.0.0.1:8000/{other}/" aria-current' not in footer
        assert f'<input type="hidden" name="sites" value="{slug}">' in footer
        assert f"Dr {slug.title()}" in box and f"Dr {other.title()}" not in box
        assert f'href="http://127.0.0.1:8000/{slug}/pages/a-propos.html"' in box


def test_an_article_s_summary_is_its_own_in_every_list(make_network):
    """Each list (home page, category, tags) shows each article's own summary, the same in all of them."""
    network = make_network(slugs=("dr-a",), posts=3)
    results = build.build(network, jobs=1, force=True, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    blog = network.output / "dr-a"
    lists = [blog / "index.html", blog / "category" / "pratique.html", blog / "tag" / "essai.html"]
    shown = [re.findall(r'<article class="summary h-entry">.*?</article>', page.read_text(encoding="utf-8"), re.S)
             for page in lists]
    assert all(len(summaries) == 3 for summaries in shown)
    assert len(set(shown[0])) == 3 and all(set(summaries) == set(shown[0]) for summaries in shown)
    for n in range(3):
        assert sum(f'href="http://127.0.0.1:8000/dr-a/dr-a-billet-{n}.html" rel="bookmark">Billet {n} de dr-a</a>'
                   in summary for summary in shown[0]) == 1
