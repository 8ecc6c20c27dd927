"""Hostile inputs through the whole write path: nothing executable survives; links are safe and marked.

Each input is rendered by render.to_html (Markdown then confreres.sanitize.clean); the HTML is then
parsed (BeautifulSoup) and every element and attribute checked against the allowlist.
"""

import pytest
from bs4 import BeautifulSoup, Comment

from comments_service.domain.render import to_html

ALLOWED = {"p", "br", "em", "strong", "b", "i", "a", "code", "pre", "blockquote", "ul", "ol", "li", "del", "hr"}
REL = "nofollow ugc noopener"

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=javascript:alert('XSS')>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<p style=\"background:url('javascript:alert(1)')\">x</p>",
    "<a href=\"javascript:alert(1)\">clic</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">clic</a>",
    "<a href=\" javascript:alert(1)\">clic</a>",
    "<a href=\"java&#x09;script:alert(1)\">clic</a>",
    "<a href=\"java\tscript:alert(1)\">clic</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">clic</a>",
    "<a href=\"javascript&colon;alert(1)\">clic</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">clic</a>",
    "<a href=\"vbscript:msgbox(1)\">clic</a>",
    "<a href=\"https://ok.example/\" onclick=\"alert(1)\" onmouseover=alert(2)>clic</a>",
    "<a href=\"https://ok.example/\" target=_blank rel=opener>clic</a>",
    "[clic](javascript:alert(1))",
    "[clic](JAVASCRIPT:alert(1))",
    "[clic](javascript&#58;alert(1))",
    "[clic](  javascript:alert(1)  )",
    "[clic](data:text/html,<script>alert(1)</script>)",
    "[clic](vbscript:msgbox(1))",
    "![img](javascript:alert(1))",
    "![img](https://tracker.example/pixel.gif)",
    "<javascript:alert(1)>",
    "<http://ok.example/a?b=1&c=2>",
    "[a](https://ok.example/ \"title\" onmouseover=\"alert(1)\")",
    "<!-- <script>alert(1)</script> -->visible",
    "<!--><script>alert(1)</script>-->",
    "<div onmouseover=alert(1)>survol</div>",
    "<form action=https://evil.example><input name=x><button>ok</button></form>",
    "<textarea><script>alert(1)</script></textarea>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    "<table background=javascript:alert(1)><tr><td>x</td></tr></table>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<a href=\"https://ok.example/\"><img src=x onerror=alert(1)></a>",
    "> > <script>alert(1)</script>\n> citation **imbriquée**",
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "<<script>script>alert(1)<</script>/script>",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "<a href=\"https://ok.example/\" style=\"position:fixed;top:0\">x</a>",
    "<template><script>alert(1)</script></template>",
    "<x onclick=alert(1)>x</x>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]

DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")


def _check(html: str) -> None:
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(string=lambda s: isinstance(s, Comment))
    for tag in soup.find_all(True):
        assert tag.name in ALLOWED, (tag.name, html)
        for attr, value in tag.attrs.items():
            assert not attr.lower().startswith("on"), html
            assert attr in ("href", "title", "rel"), (attr, html)
            if attr == "rel":
                assert " ".join(value) == REL, html
        if tag.name == "a":
            assert " ".join(tag.get("rel", [])) == REL, html
            href = tag.get("href", "")
            squashed = "".join(href.split()).lower()
            assert not squashed.startswith(DANGEROUS_SCHEMES), html
            # an absolute link is http(s) or mailto; anything else is a harmless relative link (no scheme)
            assert squashed.startswith(("http://", "https://", "mailto:")) or ":" not in squashed, html


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_input_is_neutralised(source):
    html = to_html(source)
    _check(html)
    lowered = html.lower()  # escaped text such as "&lt;img onerror=...&gt;" is harmless; tags are not
    for needle in ("<script", "<img", "<svg", "<iframe", "<style", "<form", "<math", "<object", "<embed", "<base"):
        assert needle not in lowered, (needle, html)


def test_safe_markdown_survives():
    html = to_html(
        "Un *avis*, un **accord**, du `code`.\n"
        "Une ligne.\n\n"
        "> Une citation\n\n"
        "- un\n- deux\n\n"
        "1. premier\n2. second\n\n"
        "[Le site](https://exemple.fr/page?a=1&b=2) et https://exemple.fr/nu et <mailto:dr@exemple.fr>"
    )
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("em").text == "avis" and soup.find("strong").text == "accord"
    assert soup.find("code").text == "code"
    assert soup.find("br") is not None
    assert soup.find("blockquote").text.strip() == "Une citation"
    assert [li.text for li in soup.find("ul").find_all("li")] == ["un", "deux"]
    assert soup.find("ol") is not None
    links = {a["href"]: " ".join(a["rel"]) for a in soup.find_all("a")}
    assert links["https://exemple.fr/page?a=1&b=2"] == REL
    assert links["https://exemple.fr/nu"] == REL
    assert any(href.startswith("mailto:") or "&#" in href for href in links)
    _check(html)


def test_hostile_inputs_through_the_api_and_every_output(actions, urls):
    """The stored HTML is what the API, the no-JS page and the feeds serve; check all three."""
    for source in HOSTILE:
        response = actions.post(source, url=urls.POST_B)
        assert response.status_code in (201, 400, 409), source  # 409: what another one showed (the same « clic »)
    thread = actions.thread(urls.POST_B).get_json()

    def walk(nodes):
        for node in nodes:
            _check(node["html"])
            walk(node["replies"])

    walk(thread["comments"])
    page = actions.client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    body = page.split("<main", 1)[1]
    soup = BeautifulSoup(body, "html.parser")
    for tag in soup.find_all(True):
        assert tag.name not in ("script", "img", "svg", "iframe", "object", "embed", "math"), tag
        assert not any(attr.lower().startswith("on") for attr in tag.attrs), tag
        for attr in ("href", "src", "action"):
            assert not "".join(tag.get(attr, "").split()).lower().startswith(("javascript:", "data:", "vbscript:"))
    feed = actions.client.get("/feeds/thread.atom", query_string={"url": urls.POST_B}).get_data(as_text=True)
    import feedparser

    parsed = feedparser.parse(feed)
    assert parsed.entries
    for entry in parsed.entries:
        _check(entry.summary)


def test_hostile_author_and_website_are_escaped(actions, urls, api_error):
    api_error(actions.post("x", url=urls.POST_B, website="javascript:alert(1)"), 400, "invalid_url", "website")
    api_error(actions.post("x", url=urls.POST_B, website="https://ok.example/\"onmouseover=\"alert(1)"), 400)
    api_error(actions.post("x", url=urls.POST_B, website="https://ok.example/?a=<b>"), 400, "invalid_url")
    actions.comment("x", url=urls.POST_B, author="<img src=x onerror=alert(1)>", website="https://ok.example/?a=1&b=2")
    page = actions.client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="https://ok.example/?a=1&amp;b=2"' in page
    data = actions.thread(urls.POST_B).get_json()
    assert data["comments"][0]["author"]["name"] == "<img src=x onerror=alert(1)>"  # JSON: raw text, escaped by clients


def test_code_is_escaped_once():
    assert to_html("`a < b`") == "<p><code>a &lt; b</code></p>"
