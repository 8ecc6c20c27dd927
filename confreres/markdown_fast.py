"""Python-Markdown's slowest inline patterns, tried only on a text that holds the character each of their matches has.

Markdown tries every inline pattern on every paragraph. Four of them begin with a look-behind (`(?<!\\)` before a
backtick: code spans; `(?<!\\!)` before « [ »: links and references), so the regex engine cannot skip ahead to the
character it needs and tries every position of the text: about half of the time of converting a post (a blog's
build reads every post; a comment is converted when it is written). A text without a backtick holds no code span,
one without « [ » no link: there, `guard` makes those patterns find nothing at once, as their regex would; where
there is one, a link's pattern is searched as « [ » not preceded by « ! » (the same matches, found by skipping to
each « [ »). A pattern is guarded only when its regex is the one named here: another Markdown version's keeps its
own speed.
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


class _Needing:
    """A compiled regex whose `finditer` first checks that the text holds `needle`, then searches with `faster`
    when given (Markdown's inline processor calls `finditer` only; anything else goes to the regex)."""

    __slots__ = ("regex", "needle", "searched")

    def __init__(self, regex, needle: str, faster=None):
        self.regex, self.needle, self.searched = regex, needle, faster or regex

    def finditer(self, string: str, pos: int = 0, endpos: int = sys.maxsize):
        if self.needle not in string:
            return iter(())
        return self.searched.finditer(string, pos, endpos)

    def __getattr__(self, name):
        return getattr(self.regex, name)


def guard(md: Markdown) -> Markdown:
    """`md` with its look-behind-first inline patterns guarded (NEEDED); the same HTML for any text."""
    for name, (source, needle, faster) in NEEDED.items():
        if name not in md.inlinePatterns:
            continue
        pattern = md.inlinePatterns[name]
        regex = pattern.getCompiledRegExp()
        if isinstance(regex, _Needing) or regex.pattern != source:
            continue
        guarded = _Needing(regex, needle, faster)
        pattern.getCompiledRegExp = lambda guarded=guarded: guarded
    return md
