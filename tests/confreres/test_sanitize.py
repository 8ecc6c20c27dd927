"""The sanitiser's shortcut (`_kept_as_is`) must answer exactly what bleach would, on any input it accepts."""

import random

import pytest

from comments_service.domain.render import _converter
from confreres import sanitize

# Pieces that reach every branch: Markdown syntax, raw HTML, entities, link-like text, characters html5lib rewrites.
WORDS = [
    "merci", "Écriture", "patient", "l'été", '"cité"', "😀", "a\u00a0b", "x\u200by", "\t", "  ", " ", " ", " ", "\n",
    "\n\n", "\r\n", "*", "**", "_", "`", "```", "~~", "#", "> ", "- ", "1. ", "    ", "&", "&amp;", "&lt;", "&#60;",
    "&nbsp;", "<", ">", "<b>", "</b>", "<i>", "<p>", "</p>", "<br>", "<br/>", "<em>", "</em>", "<code>", "</code>",
    "<del>", "<pre>", "<script>", "<!-- c -->", "[lien](http://x.fr)", "exemple.fr", "www.a.com", "http://h",
    "a.b", "3.5", "docteur.", ".", ":", "/", "\\", "\x00", "\x0c", "\ufffe", "\U0001ffff", "\ud800",
]


PLAIN = ["merci", " ", "docteur", ", ", ".", "\n", "*", "`", "\n\n", "é", "« »"]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PLAIN if rng.random() < 0.6 else WORDS) for _ in range(rng.randint(1, 14)))


def _bleach(html: str) -> str:
    return sanitize._cleaner.clean(sanitize._DROP_WITH_CONTENT.sub("", html))


@pytest.mark.parametrize("seed", range(4))
def test_the_shortcut_answers_what_bleach_would(seed):
    rng = random.Random(seed)
    md = _converter()
    taken = 0
    for _ in range(1500):
        text = _random_text(rng)
        for html in (md.reset().convert(text), text, "<p>" + text + "</p>"):
            if sanitize._kept_as_is(html):
                taken += 1
                assert _bleach(html) == html, repr(html)
            assert sanitize.clean(html) == _bleach(html), repr(html)
    assert taken > 300  # the shortcut is really taken, so this test can fail


@pytest.mark.parametrize("html", [
    "<p>Merci pour ce billet.</p>",
    "<p>Un <em>vrai</em> <strong>merci</strong>, <code>a &lt; b</code><br>\nligne 2</p>\n<p>« Suite »</p>",
])
def test_plain_comments_take_the_shortcut(html):
    assert sanitize._kept_as_is(html)
    assert sanitize.clean(html) == html


@pytest.mark.parametrize("html", [
    "<p>voir exemple.fr</p>",  # a link to make
    '<p><a href="https://x.fr">x</a></p>',  # an attribute
    "<p>a</p><script>alert(1)</script>",
    "<p><em>a</p></em>",  # crossed tags
    "<p><p>a</p></p>",
    "<p>a & b</p>",  # a bare "&": bleach writes &amp;
    "<p>a &quot; b</p>",
    "<p>a > b</p>",
    "<p>a</p>texte",
    "<em>a</em>",
    "<p>a\rb</p>",
    "<p>a\x00b</p>",
])
def test_anything_else_goes_through_bleach(html):
    assert not sanitize._kept_as_is(html)


def test_the_shortcut_keeps_only_tags_of_the_allowlist():
    assert set(sanitize.KEPT_AS_IS) <= sanitize.ALLOWED_TAGS
