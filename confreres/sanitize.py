"""The one sanitiser: every piece of user or feed HTML goes through `clean` before it is stored or shown.

An allowlist (bleach) rather than a blocklist: whatever the encoding trick, only these tags,
these attributes and these URL schemes survive. Links get `rel="nofollow ugc noopener"`.
This module is a leaf: it imports no other project module.
"""

from __future__ import annotations

import html as html_lib
import re
import threading
import unicodedata
from functools import partial
from html.entities import html5 as html5_entities

import bleach
from bleach.html5lib_shim import HTML_TAGS_BLOCK_LEVEL, getTreeWalker
from bleach.linkifier import URL_RE as BLEACH_URL_RE
from bleach.linkifier import LinkifyFilter

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "b", "i", "a", "code", "pre", "blockquote", "ul", "ol", "li", "del", "hr"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
# bleach's URL pattern, tried only where a run of "(" starts: it begins with `\(*`, which from every "(" of a run
# went over the rest of the run (10,000 of them in a comment: ~2 s). The same matches.
URL_RE = re.compile(r"(?<!\()" + BLEACH_URL_RE.pattern, BLEACH_URL_RE.flags)

# Elements whose text is code or noise, removed whole before the allowlist runs (bleach would keep their text).
_DROPPED_ELEMENTS = ("script", "style", "template", "textarea", "title", "noscript", "iframe", "object", "svg", "math")
_DROPPED_NAME = re.compile(rf"<({'|'.join(_DROPPED_ELEMENTS)})\b", re.IGNORECASE)
_DROPPED_CLOSING = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _DROPPED_ELEMENTS}


def _drop_with_content(html: str) -> str:
    """`html` without those elements and what they hold: what the pattern `<(script|…)\\b[^>]*>.*?</\\1\\s*>` removed
    (tests/confreres/test_sanitize.py holds one to the other), in one pass. The pattern went over the rest of the
    text again from every opening tag left unclosed: « <script> » 8,000 times in a feed took 2.5 s, a 2 MiB one an
    hour. An element never closed keeps its text (bleach removes the tag)."""
    kept: list[str] = []
    pos = scan = 0
    gt = -1  # the first ">" after the tag name being looked at: the end of its opening tag
    unclosed: set[str] = set()  # a closing tag looked for and not found after one opening is not after later ones
    while (opening := _DROPPED_NAME.search(html, scan)) is not None:
        if gt < opening.end():
            gt = html.find(">", opening.end())
            if gt < 0:
                break  # no opening tag can end
        name = opening[1].lower()
        closing = None if name in unclosed else _DROPPED_CLOSING[name].search(html, gt + 1)
        if closing is None:
            unclosed.add(name)
            scan = opening.start() + 1  # another element may open inside this tag (« <math<script>…</script> »)
        else:
            kept.append(html[pos:opening.start()])
            pos = scan = closing.end()
    kept.append(html[pos:])
    return "".join(kept)


MAX_TAG = 8192  # characters from a tag's "<" to its ">": a longer one is an attack (or broken), never markup
_TAG_START = re.compile(r"<[A-Za-z/!?]")


def _drop_overlong_tags(html: str) -> str:
    """`html` without tags longer than MAX_TAG (to the end when one never ends, as a browser drops it): html5lib
    takes time quadratic in a tag's attributes (« <svg <svg … » 20,000 times: 0.8 s; a 2 MiB feed's, minutes)."""
    if len(html) <= MAX_TAG:
        return html
    kept: list[str] = []
    pos = 0
    while (start := _TAG_START.search(html, pos)) is not None:
        end = html.find(">", start.start())
        if end < 0:
            end = len(html)
        if end - start.start() > MAX_TAG:
            kept.append(html[pos:start.start()])
        else:
            kept.append(html[pos:end + 1])
        pos = end + 1
    kept.append(html[pos:])
    return "".join(kept)


def _set_rel(attrs, new=False):
    href_key = (None, "href")
    href = attrs.get(href_key, "")
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    if scheme and scheme not in ALLOWED_PROTOCOLS:
        return None  # drop the link, keep its text
    attrs[(None, "rel")] = LINK_REL
    return attrs


MAX_DEPTH = 100  # elements open at once while html5lib parses: deeper is an attack (or broken), never a post's markup
_TEXT_SHAPED_TAG = re.compile(r"<[A-Za-z!/?][^<>]*>?")  # what a browser could read as a tag: "< 5 mg" is text


class _TooDeep(Exception):
    """html5lib was about to open an element MAX_DEPTH deep."""


class _OpenElements(list):
    """html5lib's stack of open elements, bounded. It is searched at nearly every tag (`elementInScope`,
    `reconstructActiveFormattingElements`): nested N deep, N tags cost N² (« <ul><li> » 8,000 times, 64 KB: 40 s;
    a 2 MiB feed entry, hours), and the tree it made was too deep for the recursive readers after us (markdownify:
    a RecursionError past ~330 levels). Bounded, a tag costs at most MAX_DEPTH steps."""

    def append(self, element) -> None:
        if len(self) >= MAX_DEPTH:
            raise _TooDeep
        super().append(element)


class _Walker(getTreeWalker("etree")):
    """html5lib's walker of the parsed tree, which bleach reads to write its answer; the same steps, but back from
    an element's last child it found the element's place among its siblings by searching them (`list.count`,
    `list.index`): N elements with children inside one (a feed entry's paragraphs in its <div>; « <b><p> » 10,000
    times) cost N² (64 KB: 5 s; 256 KB: 80 s). Here each element's place is kept as it is entered."""

    def __init__(self, tree):
        super().__init__(tree)
        self._keys: list[int | None] = []  # beside the walk's stack of ancestors: each one's place in its parent

    def getFirstChild(self, node):
        child = super().getFirstChild(node)
        if child is not None and child[3] is None:  # entered the element (not its text): it joined the ancestors
            self._keys.append(node[1] if isinstance(node, tuple) else None)
        return child

    def getNextSibling(self, node):
        sibling = super().getNextSibling(node)
        if sibling is not None and node[3] == "text":  # from an element's text to its first child: entered it
            self._keys.append(node[1])
        return sibling

    def getParentNode(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent, key = parents.pop(), self._keys.pop()
        return (parent, key, parents, None) if parents else parent


def _bounded(cleaner: bleach.sanitizer.Cleaner) -> bleach.sanitizer.Cleaner:
    """`cleaner` whose parser raises _TooDeep past MAX_DEPTH (its tree builder starts each parse with a fresh
    stack: the bounded one from then on), and whose tree is walked by _Walker."""
    tree = cleaner.parser.tree
    reset = tree.reset

    def bounded_reset() -> None:
        reset()
        tree.openElements = _OpenElements()

    tree.reset = bounded_reset
    cleaner.walker = _Walker
    return cleaner


def soup(html: str):
    """`html` read by BeautifulSoup with html5lib (as a browser reads it: « <li>Un<li>Deux » is two items), in one
    pass whatever it holds, for a whole document read outside bleach (an imported post: confreres.post_import). Its
    parser has the same bounds as ours: tags longer than MAX_TAG dropped, and nested deeper than MAX_DEPTH (where
    each tag cost a search of every open element: « <b> » 4,000 times, 12 KB, took 20 s), its text alone, escaped,
    in one paragraph."""
    from bs4 import BeautifulSoup
    from bs4.builder import HTML5TreeBuilder

    class Bounded(HTML5TreeBuilder):
        def create_treebuilder(self, namespaceHTMLElements):
            tree = super().create_treebuilder(namespaceHTMLElements)
            reset = tree.reset

            def bounded_reset() -> None:
                reset()
                tree.openElements = _OpenElements()

            tree.reset = bounded_reset
            return tree

    html = _drop_overlong_tags(html)
    try:
        return BeautifulSoup(html, builder=Bounded())
    except _TooDeep:
        flat = _flat_text(html)
        return BeautifulSoup(f"<p>{html_lib.escape(flat, quote=False)}</p>" if flat else "", "html5lib")


def _flat_text(html: str) -> str:
    """The text of `html` without parsing it (tags removed, references read, spaces collapsed): what is kept of a
    document nested deeper than MAX_DEPTH. One pass whatever the markup."""
    return " ".join(html_lib.unescape(_TEXT_SHAPED_TAG.sub(" ", html)).split())


# bleach's Cleaner keeps its parser's state while it works: one per thread (`confreres serve` and the service's
# Webmention worker clean in threads; shared, two comments written at once swapped or lost their text).
_cleaners = threading.local()


def _cleaner() -> bleach.sanitizer.Cleaner:
    if not hasattr(_cleaners, "html"):
        # Clean and linkify in one pass: linkifying the cleaned string again would escape code twice.
        _cleaners.html = _bounded(bleach.sanitizer.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"}, parse_email=False,
                             url_re=URL_RE)],
        ))
    return _cleaners.html


def _stripper() -> bleach.sanitizer.Cleaner:
    """bleach.clean(tags=set(), strip=True), made once a thread: bleach.clean builds its parser again on each call."""
    if not hasattr(_cleaners, "text"):
        _cleaners.text = _bounded(bleach.sanitizer.Cleaner(tags=set(), strip=True))
    return _cleaners.text


def clean(html: str) -> str:
    """Return `html` reduced to the allowlist, bare URLs linked, every link given the safe rel; nested deeper than
    MAX_DEPTH, its text alone, escaped, in one paragraph (no nesting at all)."""
    if not html:
        return ""
    if _kept_as_is(html):
        return html
    html = _drop_with_content(_drop_overlong_tags(html))
    try:
        return _cleaner().clean(html)
    except _TooDeep:
        flat = _flat_text(html)
        return f"<p>{html_lib.escape(flat, quote=False)}</p>" if flat else ""


# What Markdown makes of most comments — paragraphs of escaped text with line breaks and inline emphasis or code,
# no attribute, nothing to link — is already what bleach would write: it would parse and re-serialise it unchanged
# (tests/confreres/test_sanitize.py compares both on thousands of random fragments). Recognising it costs a few
# microseconds where bleach costs ~160, about a sixth of a comment's write. Safe by construction whatever bleach
# would do: only tags of the allowlist, without attributes, and text holding no markup survive this check.
KEPT_AS_IS = ("p", "br", "em", "strong", "b", "i", "code", "del")  # of ALLOWED_TAGS, written without attributes
_MARKUP = re.compile(rf"<(/?)({'|'.join(KEPT_AS_IS)})>")
# Controls but tab and line feed, surrogates, noncharacters: html5lib rewrites or reports those. (Ranges only: a class
# listing the 34 noncharacters one by one made the search ~10x slower.)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_OTHER_AMPERSAND = re.compile("&(?!(?:amp|lt|gt);)")  # not one of the three entities Markdown writes


def _rewritten(html: str) -> bool:
    """Whether html5lib would rewrite or report a character of `html`."""
    return bool(_CONTROLS.search(html)) or any(ord(ch) & 0xFFFE == 0xFFFE for ch in _ASTRAL.findall(html))


def _kept_as_is(html: str) -> bool:
    if not html.startswith("<p>") or _OTHER_AMPERSAND.search(html) or _rewritten(html):
        return False
    open_tags: list[str] = []
    texts = []
    end = 0
    for match in _MARKUP.finditer(html):
        between = html[end:match.start()]
        if open_tags:
            texts.append(between)
        elif between.strip("\n"):  # text outside a paragraph
            return False
        end = match.end()
        closing, name = match.groups()
        if name == "br":
            if closing or not open_tags:
                return False
        elif closing:
            if not open_tags or open_tags.pop() != name:
                return False
        # paragraphs are not nested, inline tags are inside one; nested MAX_DEPTH deep, bleach flattens it
        elif (name == "p") == bool(open_tags) or len(open_tags) >= MAX_DEPTH - 1:
            return False
        else:
            open_tags.append(name)
    if open_tags or html[end:].strip("\n"):
        return False
    text = "\n".join(texts)
    return "<" not in text and ">" not in text and not URL_RE.search(html_lib.unescape(text))


# A line break, a block or a table cell ends a word: "Ligne<br />suite" (how Blogger writes lines), "…</p><a>" read
# "Ligne suite", not "Lignesuite" as the tags alone removed would.
_WORD_BREAKERS = "|".join(sorted(HTML_TAGS_BLOCK_LEVEL | {"br", "tr", "td", "th", "caption", "summary"}))
_WORD_BREAKING = re.compile(rf"<(?=/?(?:{_WORD_BREAKERS})[\s/>])", re.IGNORECASE)


def text(html: str) -> str:
    """Plain text of an HTML fragment (for excerpts and plain-text fields)."""
    html = _WORD_BREAKING.sub(" <", _drop_with_content(_drop_overlong_tags(html or "")))
    plain = _plain(html)
    if plain is None:
        try:
            plain = html_lib.unescape(_stripper().clean(html))
        except _TooDeep:
            plain = _flat_text(html)
    return " ".join(plain.split())  # the same whitespace as re's \s, several times faster


# What most fragments are (a post's summary, a feed entry's HTML): tags of these names around text, whose
# text bleach with html5lib gives back in the same order (no raw-text content, no table moving text about, no
# newline dropped after the tag, no tag renamed), so that removing the tags gives the same text, ~10x faster.
# Compared with bleach on thousands of random fragments (tests/confreres/test_sanitize.py). Not a safety check:
# the result is plain text either way, escaped wherever it is shown.
_TEXT_TAGS = frozenset({
    "p", "br", "em", "strong", "b", "i", "a", "code", "blockquote", "ul", "ol", "li", "del", "ins", "hr", "h1", "h2",
    "h3", "h4", "h5", "h6", "span", "div", "img", "sub", "sup", "small", "abbr", "cite", "q", "s", "u", "mark",
    "time", "dl", "dt", "dd", "figure", "figcaption", "kbd", "var", "section", "article", "aside", "header", "footer",
})
_TAG = re.compile(r"""</?([a-zA-Z][a-zA-Z0-9]*)(?:\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*\s*/?>""")
# an "&" bleach keeps as text unless it starts a named reference with its ";" (html.unescape reads "&copy" too)
_AMPERSAND = re.compile(r"&([a-zA-Z][a-zA-Z0-9]*;)?")


def _plain(html: str) -> str | None:
    """The text of `html` when it is made only of _TEXT_TAGS and text, else None (then bleach answers)."""
    if "&#" in html or _rewritten(html):  # numeric references: html5lib keeps some that html.unescape drops
        return None
    if "&" in html and not all(match[1] in html5_entities for match in _AMPERSAND.finditer(html)):
        return None
    parts, end = [], 0
    for match in _TAG.finditer(html):
        name = match[1].lower()
        if name not in _TEXT_TAGS:
            return None
        parts.append(html[end:match.start()])  # a block's tags are spaced already (_WORD_BREAKING)
        end = match.end()
    parts.append(html[end:])
    plain = "".join(parts)
    return None if "<" in plain else html_lib.unescape(plain)




def excerpt(html: str, limit: int = 280) -> str:
    """Plain-text excerpt cut on a word boundary, with an ellipsis when cut."""
    plain = text(html)
    if len(plain) <= limit:
        return plain
    cut = plain[:limit].rsplit(" ", 1)[0].rstrip(",;:.-–— ")
    return cut + "…"


__all__ = ["clean", "text", "excerpt", "one_line", "ALLOWED_TAGS", "LINK_REL"]


# Unicode categories never kept in a one-line field: controls (CR, LF, tab, NEL...), line and paragraph
# separators, format characters (bidi overrides and isolates, zero-width characters) and lone surrogates.
_BREAKS = frozenset(("Cc", "Zl", "Zp"))
_DROPPED = frozenset(("Cf", "Cs"))


def one_line(value: str) -> str:
    """A one-line field (a name, an address, a title, a reason) as it may be stored and shown.

    Line breaks and other control characters become spaces, format characters (bidi overrides that
    reverse what a moderator reads, zero-width characters) are dropped, runs of spaces become one: such
    a field can never write a line of its own into a mail or a page. The one rule for every single-line
    input (API, no-JS forms, account and verification pages, importers, received Webmentions).
    """
    kept = []
    for ch in value:
        if ch.isascii() and ch.isprintable():
            kept.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in _BREAKS:
            kept.append(" ")
        elif category not in _DROPPED:
            kept.append(ch)
    return " ".join("".join(kept).split())
