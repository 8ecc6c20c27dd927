"""The guarded inline patterns (confreres.markdown_fast) give Markdown's own HTML for any text, and are in use."""

from __future__ import annotations

import random
import re

import pytest
from markdown import Markdown
from pelican.settings import DEFAULT_CONFIG, configure_settings

from comments_service.domain import render
from confreres.markdown_fast import NEEDED, NEEDED_BLOCKS, _Needing, _needles, guard

WRITTEN = [
    "Du `code` et du ``code avec ` dedans`` ; \\`pas du code\\` ; \\\\`code après deux barres`.",
    "Un [lien](https://has-sante.fr/ \"titre\"), une ![image](i.png), [une référence][ref], [ref], ![img][ref].",
    "[ref]: https://exemple.fr/\n\n[ref] et [ref][] et [texte [imbriqué]](x) et \\[pas un lien].",
    "Une note[^1] et *emphase*, **gras**, _souligné_, <https://auto.lien/>, <a@b.fr>, &amp; &eacute;.\n\n"
    "[^1]: La note, avec un `code`.",
    "```\nbloc [pas] un `lien`\n```\n\n    indenté [x](y)\n\n> citation avec [lien](z) et `c`",
    "Ligne  \nfin de ligne dure, puis <span>[html](x)</span> et `<b>`.",
    "*[HTML]: HyperText\n\nDu HTML et [HTML](h).",
    "Rien de particulier : un paragraphe français ordinaire, sans lien ni code.",
    "> citation\n> sur deux lignes\n\nTitre\n=====\n\nSous-titre\n---\n\nTerme\n:   définition\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n\n* * *\n\nPas : une définition ; pas > une citation.",
]
ALPHABET = "ab `[]()!\\*_<>&:^\n#-1.=|  \n\n\t{}~@/;x"


def corpus(n: int = 1500) -> list[str]:
    rng = random.Random(14)
    return WRITTEN + ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 60))) for _ in range(n)]


def pelican_markdown() -> Markdown:
    """The posts' Markdown: Pelican's settings with the extensions its reader adds (extra, codehilite, meta)."""
    from confreres.markdown_reader import ReusedMarkdownReader

    return Markdown(**ReusedMarkdownReader(configure_settings(dict(DEFAULT_CONFIG, PATH="/tmp"))).settings["MARKDOWN"])


@pytest.mark.parametrize("make", [pelican_markdown, lambda: Markdown(extensions=list(render.EXTENSIONS),
                                                                      output_format="html")],
                         ids=["posts", "comments"])
def test_guarded_markdown_writes_the_same_html_as_markdown(make):
    plain, guarded = make(), guard(make())
    assert all(isinstance(guarded.inlinePatterns[name].getCompiledRegExp(), _Needing) for name in NEEDED)
    assert all(isinstance(guarded.parser.blockprocessors[name].RE, _Needing) for name in NEEDED_BLOCKS
               if name in guarded.parser.blockprocessors)
    assert _needles(guarded) is not None, "every inline pattern known: each document pruned"
    for text in corpus():
        assert guarded.reset().convert(text) == plain.reset().convert(text), repr(text)


def test_a_document_is_inline_processed_with_only_the_patterns_that_can_match_in_it():
    md = guard(Markdown(extensions=list(render.EXTENSIONS)))
    inline, seen = md.treeprocessors["inline"], []
    applied = type(inline)._InlineProcessor__applyPattern

    def spy(self, pattern, *args):
        seen.append(type(pattern).__name__)
        return applied(self, pattern, *args)

    type(inline)._InlineProcessor__applyPattern = spy
    try:
        assert md.reset().convert("Un paragraphe *simple*.") == "<p>Un paragraphe <em>simple</em>.</p>"
    finally:
        type(inline)._InlineProcessor__applyPattern = applied
    assert set(seen) == {"DelimiterProcessor"}  # em_strong only: no backtick, « [ », « < », « & », « \\ », newline
    assert inline.inlinePatterns is md.inlinePatterns, "the whole list back after the document"


def test_a_markdown_with_an_unknown_inline_pattern_is_not_pruned():
    """An extension's pattern may make text of its own (here « *x* » for « @@ »), which a later pattern reads."""
    from markdown.inlinepatterns import InlineProcessor

    class Stars(InlineProcessor):
        def handleMatch(self, m, data):
            from xml.etree import ElementTree

            element = ElementTree.Element("span")
            element.text = "*x*"
            return element, m.start(0), m.end(0)

    def make():
        md = Markdown()
        md.inlinePatterns.register(Stars("@@", md), "stars", 175)
        return md

    plain, guarded = make(), guard(make())
    assert _needles(guarded) is None
    assert guarded.convert("a @@ b") == plain.convert("a @@ b") == "<p>a <span><em>x</em></span> b</p>"


def test_a_markdown_whose_pattern_differs_keeps_its_own():
    md = Markdown()
    backtick = md.inlinePatterns["backtick"]
    backtick.compiled_re = re.compile(backtick.compiled_re.pattern + "(?:)")  # as another version might write it
    guard(md)
    assert not isinstance(md.inlinePatterns["backtick"].getCompiledRegExp(), _Needing)
    assert isinstance(md.inlinePatterns["link"].getCompiledRegExp(), _Needing)
    assert md.convert("`x` [a](b)") == '<p><code>x</code> <a href="b">a</a></p>'


def test_posts_and_comments_use_the_guarded_patterns(tmp_path):
    from confreres.markdown_reader import ReusedMarkdownReader

    reader = ReusedMarkdownReader(configure_settings(dict(DEFAULT_CONFIG, PATH=str(tmp_path))))
    (tmp_path / "p.md").write_text("Title: T\n\nUn [lien](https://has-sante.fr/) et `code`.\n", encoding="utf-8")
    content, _ = reader.read(str(tmp_path / "p.md"))
    assert content == '<p>Un <a href="https://has-sante.fr/">lien</a> et <code>code</code>.</p>'
    assert isinstance(reader._document.inlinePatterns["link"].getCompiledRegExp(), _Needing)
    assert render.to_html("Un [lien](https://has-sante.fr/) et `code`.").count("<code>code</code>") == 1
    assert isinstance(render._converter().inlinePatterns["backtick"].getCompiledRegExp(), _Needing)
