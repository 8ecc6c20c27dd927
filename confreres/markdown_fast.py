"""Python-Markdown's slowest inline patterns, tried only on a text that holds the character each of their matches has.

Markdown tries every inline pattern on every paragraph. Four of them begin with a look-behind (`(?<!\\)` before a
backtick: code spans; `(?<!\\!)` before « [ »: links and references), so the regex engine cannot skip ahead to the
character it needs and tries every position of the text: about half of the time of converting a post (a blog's
build reads every post; a comment is converted when it is written). A text without a backtick holds no code span,
one without « [ » no link: there, `guard` makes those patterns find nothing at once, as their regex would; where
there is one, a link's pattern is searched as « [ » not preceded by « ! » (the same matches, found by skipping to
each « [ »). A pattern is guarded only when its regex is the one named here: another Markdown version's keeps its
own speed. Three block tests search each paragraph the same way (a quote: « > », a definition: « : », a
Setext title: a line of « = » or « - »): guarded alike.

Then each document is inline-processed with only the patterns that can match in it (`PRUNABLE`): Markdown calls
every pattern on every text of the tree, a Python call and a regex search each, though a plain paragraph needs none
of them; a pattern none of whose characters the document's texts hold is left out of that document's list. The
patterns only ever make text out of the texts they are given (a part of one, an AtomicString, a placeholder of
« \\x02 », letters, digits and « : »), so a character no text held never appears later either. Only when every pattern
of the Markdown is one named here, with the regex named here: an unknown one (an extension's) might make text of
its own, and the document keeps the whole list.
"""

from __future__ import annotations

import re
import sys

from markdown import Markdown, inlinepatterns
from markdown.extensions.footnotes import FootnoteInlineProcessor
from markdown.treeprocessors import InlineProcessor

_LINK = r"(?<!\!)\["
_LINK_SKIPPING = re.compile(r"\[(?<!!\[)")  # the same matches (one « [ », not after « ! »), found by skipping to « [ »

# pattern name in Markdown's inline registry -> (its regex, a character every one of its matches contains, the same
# regex written to be searched faster, or None)
NEEDED = {
    "backtick": (r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)", "`", None),
    "reference": (_LINK, "[", _LINK_SKIPPING),
    "link": (_LINK, "[", _LINK_SKIPPING),
    "short_reference": (_LINK, "[", _LINK_SKIPPING),
}
# block processor name -> (its RE, what every block it takes contains: one of these)
NEEDED_BLOCKS = {
    "quote": (r"(^|\n)[ ]{0,3}>[ ]?(.*)", (">",)),
    "deflist": (r"(^|\n)[ ]{0,3}:[ ]{1,3}(.*?)(\n|$)", (":",)),
    "setextheader": (r"^.*?\n(?:=+|-+)[ ]*(\n|$)", ("\n=", "\n-")),
}


# every inline pattern of Python-Markdown 3.11 with the extensions posts and comments use (Pelican's `extra`,
# `codehilite`, `meta`; `nl2br`, `sane_lists`, `fenced_code`): (its class, its regex) -> what every one of its
# matches holds (one of these). Each makes elements, AtomicStrings, placeholders or a part of its text: no new text.
_HTML = (r"""(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'=<>]++))?+)*+"""
         r"""\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>).)*[?]|!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)""")
PRUNABLE = {
    (inlinepatterns.BacktickInlineProcessor, NEEDED["backtick"][0]): ("`",),
    (inlinepatterns.EscapeInlineProcessor, r"\\(.)"): ("\\",),
    (FootnoteInlineProcessor, r"\[\^([^\]]*)\]"): ("[^",),
    (inlinepatterns.ReferenceInlineProcessor, _LINK): ("[",),
    (inlinepatterns.LinkInlineProcessor, _LINK): ("[",),
    (inlinepatterns.ImageInlineProcessor, r"\!\["): ("![",),
    (inlinepatterns.ImageReferenceInlineProcessor, r"\!\["): ("![",),
    (inlinepatterns.ShortReferenceInlineProcessor, _LINK): ("[",),
    (inlinepatterns.ShortImageReferenceInlineProcessor, r"\!\["): ("![",),
    (inlinepatterns.AutolinkInlineProcessor, r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>"): ("<",),
    (inlinepatterns.AutomailInlineProcessor, r"<([^<> !]+@[^@<> ]+)>"): ("<",),
    (inlinepatterns.SubstituteTagInlineProcessor, r"  \n"): ("  \n",),
    (inlinepatterns.HtmlInlineProcessor, _HTML): ("<",),
    (inlinepatterns.HtmlInlineProcessor, r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)"): ("&",),
    (inlinepatterns.DelimiterProcessor, r"\*|_"): ("*", "_"),
    (inlinepatterns.SubstituteTagInlineProcessor, r"\n"): ("\n",),  # nl2br
}


class _Needing:
    """A compiled regex whose `finditer`, `search` and `match` first check that the text holds one of `needles`,
    then search with `faster` when given (anything else goes to the regex)."""

    __slots__ = ("regex", "needles", "searched")

    def __init__(self, regex, needles: tuple[str, ...], faster=None):
        self.regex, self.needles, self.searched = regex, needles, faster or regex

    def _holds(self, string: str) -> bool:
        return any(needle in string for needle in self.needles)

    def finditer(self, string: str, pos: int = 0, endpos: int = sys.maxsize):
        return self.searched.finditer(string, pos, endpos) if self._holds(string) else iter(())

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize):
        return self.searched.search(string, pos, endpos) if self._holds(string) else None

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize):
        return self.regex.match(string, pos, endpos) if self._holds(string) else None

    def __getattr__(self, name):
        return getattr(self.regex, name)


def guard(md: Markdown) -> Markdown:
    """`md` with its look-behind-first inline patterns and its searching block tests guarded (NEEDED,
    NEEDED_BLOCKS); the same HTML for any text."""
    for name, (source, needle, faster) in NEEDED.items():
        if name not in md.inlinePatterns:
            continue
        pattern = md.inlinePatterns[name]
        regex = pattern.getCompiledRegExp()
        if isinstance(regex, _Needing) or regex.pattern != source:
            continue
        guarded = _Needing(regex, (needle,), faster)
        pattern.getCompiledRegExp = lambda guarded=guarded: guarded
    for name, (source, needles) in NEEDED_BLOCKS.items():
        if name not in md.parser.blockprocessors:
            continue
        processor = md.parser.blockprocessors[name]
        regex = getattr(processor, "RE", None)
        if regex is None or isinstance(regex, _Needing) or regex.pattern != source:
            continue
        processor.RE = _Needing(regex, needles)
    if "inline" in md.treeprocessors:
        _prune(md, md.treeprocessors["inline"])
    return md


def _prune(md: Markdown, inline) -> None:
    """Make Markdown's own inline processor go over each document with the patterns that can match in it."""
    if type(inline) is InlineProcessor and not getattr(inline, "_pruned", False):
        inline.run = _pruning(md, inline, inline.run)
        inline._pruned = True


def _needles(md: Markdown) -> list[tuple[object, tuple[str, ...]]] | None:
    """(pattern, its needles) for each inline pattern of `md`, in the order Markdown tries them; None when one is not
    in PRUNABLE (its exact class and regex)."""
    table = []
    for pattern in md.inlinePatterns:
        needles = PRUNABLE.get((type(pattern), getattr(getattr(pattern, "compiled_re", None), "pattern", None)))
        if needles is None:
            return None
        # a footnote's number is a text, written as configured
        if type(pattern) is FootnoteInlineProcessor and pattern.footnotes.getConfig("SUPERSCRIPT_TEXT") != "{}":
            return None
        table.append((pattern, needles))
    return table


def _pruning(md: Markdown, inline: InlineProcessor, run):
    """`run` of the inline processor, over this document's texts with only the patterns that can match in them."""
    kept: list = [(), None]  # the patterns the table was made of, the table

    def pruned(tree, ancestors=None):
        patterns = tuple(md.inlinePatterns)
        if patterns != kept[0]:
            kept[:] = [patterns, _needles(md)]
        table = kept[1]
        if table is None:
            return run(tree, ancestors)
        texts = "\0".join([text for element in tree.iter() for text in (element.text, element.tail) if text])
        inline.inlinePatterns = [pattern for pattern, needles in table if any(n in texts for n in needles)]
        try:
            return run(tree, ancestors)
        finally:
            inline.inlinePatterns = md.inlinePatterns

    return pruned
