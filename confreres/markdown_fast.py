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
"""

from __future__ import annotations

import re
import sys

from markdown import Markdown

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
    return md
