"""The sanitiser's shortcut (`_kept_as_is`) must answer exactly what bleach would, on any input it accepts."""

import html as html_lib
import random
import re
import threading

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


def _fragments(seed: int, count: int, pieces: list[str], plain: float, longest: int):
    """`count` random texts of `pieces` and plain words, each as Markdown makes it and as it is."""
    rng = random.Random(seed)
    md = _converter()
    for _ in range(count):
        text = "".join(rng.choice(PLAIN if rng.random() < plain else pieces) for _ in range(rng.randint(1, longest)))
        yield md.reset().convert(text), text


def _bleach(html: str) -> str:
    return sanitize._cleaner().clean(sanitize._drop_with_content(html))


@pytest.mark.parametrize("seed", range(4))
def test_the_shortcut_answers_what_bleach_would(seed):
    taken = 0
    for converted, text in _fragments(seed, 1500, WORDS, plain=0.6, longest=14):
        for html in (converted, text, "<p>" + text + "</p>"):
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


# Pieces of what text() gets: a post's summary, a feed entry's HTML, whatever a feed sends.
TEXT_PIECES = WORDS + [
    "<h2>", "</h2>", "<ul>", "<li>", "</li>", "</ul>", "<blockquote>", "</blockquote>", "<div>", "</div>",
    "<span class='x'>", "</span>", '<a href="http://x.fr" title="a > b">', "</a>", "<img src=x.png alt='image'>",
    "<hr/>", "<P>", "<table>", "<tr><td>", "</td></tr>", "</table>", "<xmp>", "</xmp>", "<textarea>",
    "<pre>\n", "<listing>", "<plaintext>", "<title>", "<!DOCTYPE html>", "<?x?>", "<![CDATA[", "]]>", "<a <b>",
    "<b x=1>", "<p/>", "&eacute;", "&copy", "&#233;", "&#x80;", "&#1;", "&#0;", "&bogus;", "<sup>", "<figure>",
    "<noscript>", "</noscript>", "<image>", "<math>", "<svg>", "\r", "\u00a0", "\u2028",
]


@pytest.mark.parametrize("seed", range(3))
def test_plain_text_answers_what_bleach_would(seed):
    taken = 0
    for fragments in _fragments(seed, 2000, TEXT_PIECES, plain=0.5, longest=16):
        for html in fragments:
            dropped = sanitize._WORD_BREAKING.sub(" <", sanitize._drop_with_content(html))
            expected = " ".join(html_lib.unescape(sanitize._stripper().clean(dropped)).split())
            taken += sanitize._plain(dropped) is not None
            assert " ".join(sanitize.text(html).split()) == expected, repr(html)
    assert taken > 1000  # the regex path is really taken, so this test can fail


def test_line_breaks_blocks_and_cells_end_words_in_plain_text():
    """Blogger writes a post's lines "Ligne<br />suite": its planet excerpt reads "Ligne suite", not "Lignesuite"."""
    assert sanitize.text("Dr Martin<br />Cardiologue<BR>Lyon") == "Dr Martin Cardiologue Lyon"
    assert sanitize.text("<p>Bonjour</p><a href='https://x.fr'>la suite</a>") == "Bonjour la suite"
    assert sanitize.text("<table><tr><td>Lundi</td><td>garde</td></tr></table>") == "Lundi garde"
    assert sanitize.text("<p>un <em>vrai</em>ment <b>long</b></p>") == "un vraiment long"  # inline tags do not
    assert sanitize.excerpt("Ligne une<br/>Ligne deux", 12) == "Ligne une…"


def test_a_posts_summary_takes_the_plain_text_path():
    html = ('<h2 id="t">Titre</h2>\n<p>Un <em>vrai</em> billet, <a href="https://x.fr/?a=1&amp;b=2">lien</a> '
            "&laquo;&nbsp;cité&nbsp;&raquo;.</p>\n<ul>\n<li>un</li>\n<li>deux</li>\n</ul>")
    assert sanitize._plain(html) is not None
    assert sanitize.text(html) == "Titre Un vrai billet, lien « cité ». un deux"


_OLD_DROP = re.compile(  # the single pattern _drop_with_content replaced (quadratic on unclosed tags)
    r"<(script|style|template|textarea|title|noscript|iframe|object|svg|math)\b[^>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)
DROP_PIECES = ["<script>", "</script>", "<SCRIPT a='>'>", "</script >", "<svg>", "</svg>", "<style x>", "</style>",
               "<math", ">", "<", "texte", " ", "<title>", "</title\n>", "<p>", "</p>", "<scripts>", "</scriptx>",
               "<iframe src=x>", "</iframe>", "<template>", "</TEMPLATE>", "\n"]


@pytest.mark.parametrize("seed", range(3))
def test_elements_are_dropped_with_their_content_as_before(seed):
    rng = random.Random(seed)
    for _ in range(3000):
        html = "".join(rng.choice(DROP_PIECES) for _ in range(rng.randint(1, 16)))
        assert sanitize._drop_with_content(html) == _OLD_DROP.sub("", html), repr(html)


@pytest.mark.parametrize("hostile", [
    "<script>" * 60_000,  # tags never closed: half a megabyte of a feed
    "<svg " * 400_000,  # 2 MB of one opening tag without its ">" (the planet's size cap)
    "<style>" + "</style" * 250_000,  # closings without theirs
    "<p " + "a=1 " * 100_000 + ">texte</p>",  # a tag of 100,000 attributes
    "<p>" + "(" * 200_000 + "</p>",  # bleach's URL pattern from each "(" of a run
], ids=["unclosed", "no-end", "no-closing-end", "attributes", "parentheses"])
def test_unclosed_elements_cost_one_pass(hostile):
    """The pattern this replaced went over the rest of the text from each unclosed tag, and html5lib takes time
    quadratic in a tag's attributes: minutes to hours for these. The call must end (a timeout, not a timing: one
    pass takes about a second; quadratic, hours)."""
    done = {}
    worker = threading.Thread(target=lambda: done.update(html=sanitize.clean(hostile), text=sanitize.text(hostile)),
                              daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the sanitiser went quadratic"
    assert "<script" not in done["html"] and "<svg" not in done["html"]


def test_links_are_found_as_bleach_finds_them():
    rng = random.Random(5)
    pieces = ["(", ")", "http://", "www.", "x", ".fr", ".com", " ", "/", "a", "@", "."]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 20)))
        assert [m.span() for m in sanitize.URL_RE.finditer(text)] == [
            m.span() for m in sanitize.BLEACH_URL_RE.finditer(text)], repr(text)


def test_threads_cleaning_at_once_each_get_their_own_text():
    """`confreres serve` and the Webmention worker clean in threads: a Cleaner shared between them mixed texts."""
    texts = [f"<p>Commentaire {n} : <a href='https://x.fr/{n}'>lien {n}</a> et www.site{n}.fr <b>gras</b></p>"
             * 20 for n in range(8)]
    expected = [sanitize.clean(t) for t in texts]
    wrong: list[int] = []

    def work(n):
        for _ in range(60):
            if sanitize.clean(texts[n]) != expected[n] or sanitize.text(texts[n]) != sanitize.text(texts[n]):
                wrong.append(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong


NESTING = ["<b>", "</b>", "<i>", "</i>", "<p>", "</p>", "<div>", "</div>", "<blockquote>", "</blockquote>", "<ul>",
           "<li>", "</li>", '<a href="http://x.fr">', "</a>", "<em>", "<table>", "<td>", "<strong>", "<code>", "<pre>",
           "<b id=1>", "<b id=2>", "<span>", "<nobr>", "<font>", "<h1>", "<br>", "x", " ", "www.x.fr", "&amp;"]


def _depth(html: str) -> int:
    """The deepest element of `html` (well formed, as the sanitiser writes it)."""
    depth = deepest = 0
    for match in re.finditer(r"<(/?)([a-z0-9]+)", html):
        if match[2] in ("br", "hr"):
            continue
        depth += -1 if match[1] else 1
        deepest = max(deepest, depth)
    return deepest


def test_nesting_past_the_limit_keeps_the_text_flat():
    """html5lib searched its stack of open elements at each tag: N tags nested N deep cost N², and the tree was too
    deep for markdownify (a fediverse reply, a RecursionError). Past MAX_DEPTH only the text is kept."""
    deep = sanitize.MAX_DEPTH
    hostile = "<b>" * deep + 'a &amp; b &lt;i&gt; <script>x()</script><a href="javascript:x()">c</a> 5 < 6'
    assert sanitize.clean(hostile) == "<p>a &amp; b &lt;i&gt; c 5 &lt; 6</p>"
    assert sanitize.text(hostile.replace("<b>", "<font>")) == "a & b <i> c 5 < 6"
    assert sanitize.clean("<b>" * deep) == ""
    # the shortcut leaves such a text to bleach (Markdown writes it from « *** » runs or raw HTML)
    assert sanitize.clean("<p>" + "<b>" * deep + "x" + "</b>" * deep + "</p>") == "<p>x</p>"
    # below the limit, nothing changes
    shallow = "<blockquote>" * 40 + "<p>Cité <em>là</em></p>" + "</blockquote>" * 40
    assert sanitize.clean(shallow) == shallow
    assert sanitize.clean("<p>" + "<b>" * 80 + "x" + "</b>" * 80 + "</p>").count("<b>") == 80


@pytest.mark.parametrize("seed", range(3))
def test_no_output_is_nested_as_deep_as_the_limit(seed):
    rng = random.Random(seed)
    for _ in range(60):
        html = "".join(rng.choice(NESTING) for _ in range(rng.randint(50, 3000)))
        assert _depth(sanitize.clean(html)) < sanitize.MAX_DEPTH


@pytest.mark.parametrize("seed", range(3))
def test_the_walker_gives_what_html5libs_gives(seed):
    """sanitize._Walker keeps each element's place as it enters it instead of searching its parent's children;
    the tokens must be html5lib's own walker's, in the same order."""
    from bleach.html5lib_shim import getTreeWalker

    parser = sanitize._cleaner().parser
    rng = random.Random(seed)
    for _ in range(300):
        html = "".join(rng.choice(NESTING + WORDS) for _ in range(rng.randint(1, 200)))
        try:
            dom = parser.parseFragment(html)
        except sanitize._TooDeep:
            continue
        assert list(sanitize._Walker(dom)) == list(getTreeWalker("etree")(dom)), repr(html)


@pytest.mark.parametrize("hostile", [
    "<ul><li>" * 32_768,  # 256 KB nested: html5lib's stack searched at each tag (ten minutes in a planet feed)
    "<b><p>" * 43_690,  # each <p> reopens the <b>s: deep, then wide (70 s)
    "<b></p>" * 37_449,  # a </p> without its <p>: searched for through the whole stack
    "<div>" + "<p><em>x</em></p>" * 61_680,  # 1 MiB in one <div>: html5lib's walker searched its children at each
], ids=["ul-li", "b-p", "b-close-p", "wide-div"])
def test_deep_or_wide_markup_costs_one_pass(hostile):
    """256 KB to 1 MiB (a feed entry may be 2 MiB; a fediverse reply's 40,000 characters are within): one to ten
    minutes of a worker before. A guard against a hang, not a timing (one pass: about a second each)."""
    done = {}
    worker = threading.Thread(target=lambda: done.update(html=sanitize.clean(hostile), text=sanitize.text(hostile)),
                              daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the sanitiser went quadratic"
    assert _depth(done["html"]) < sanitize.MAX_DEPTH
