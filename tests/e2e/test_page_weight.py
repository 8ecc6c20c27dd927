"""Page weight and privacy in numbers, on the committed demo network served as `make demo` serves it
(tests/demo_kit.py), in Chromium with an empty cache:

- the first load of an article fetches at most 8 KB of JavaScript (comments.js: reading, posting and replying as
  a guest), each script's body as served (minified by the build: confreres.releases.theme_static) gzipped at -9 (the demo server and nginx send the pages' files gzipped, at
  level 6; the comment service's JSON is not compressed by the demo server); comments-extra.js comes only when the reader asks (« Se connecter »…), and works;
- an article with its comments and the planet: no request to another origin, and at most 60 KB transferred
  without images (HTML, CSS, JS, fonts, the API's JSON), each body gzipped at -9 as for the scripts: what a
  compressing web server sends. (Uncompressed, the article with the verified bloggers' badges is about 62 KB:
  bench/pages.py prints both.)

`bench/pages.py` prints the same figures for every page type.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.demo_kit import mailed_link, weigh

pytestmark = pytest.mark.e2e

ARTICLE = "dr-lefebvre/epuisement-en-zone-rurale.html"
JS_BUDGET = 8 * 1024
PAGE_BUDGET = 60 * 1024
IMAGES = ("image", "media")
CLAIRE = "claire.lefebvre@demo.confreres.invalid"


def scripts(weight) -> list[str]:
    return [f.url.rsplit("/", 1)[1] for f in weight.of("script")]


def test_first_load_of_an_article_fetches_at_most_8_kb_of_javascript(demo, page):
    network, app, folder, base = demo
    weight = weigh(page, base + ARTICLE, ready=".comments-live article")
    assert scripts(weight) == ["comments.js"], scripts(weight)
    gzipped = weight.gzipped("script")
    assert gzipped <= JS_BUDGET, f"{gzipped} bytes of JavaScript (gzip -9), budget {JS_BUDGET}"

    # that first file reads the thread and answers as a guest; the rest comes only when asked for
    first = page.locator(".comments-live article").first
    first.get_by_role("button", name="Répondre").click()
    expect(page.locator("#cf-title")).to_contain_text("Répondre à")
    page.locator("#cf-text").fill("Une réponse de passage, sans compte.")
    page.locator("#cf-author").fill("Lectrice de passage")
    with page.expect_response("**/theme/js/comments-extra.js"):  # for « Modifier » on what she just wrote
        page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("status")).to_have_text("Votre commentaire est en attente de validation.")
    expect(page.get_by_role("button", name="Modifier votre commentaire")).to_be_visible()
    assert page.js_errors == [] and page.csp_violations == [], (page.js_errors, page.csp_violations)


def test_se_connecter_loads_the_rest_of_the_widget_and_signs_in(demo, page):
    network, app, folder, base = demo
    fetched = []
    page.on("request", lambda r: fetched.append(r.url.rsplit("/", 1)[1]) if r.resource_type == "script" else None)
    page.goto(base + ARTICLE)
    expect(page.locator(".comments-live article").first).to_be_visible()
    assert "comments-extra.js" not in fetched

    with page.expect_response("**/theme/js/comments-extra.js") as module:
        page.get_by_role("button", name="Se connecter par un lien envoyé par e-mail").click()
    assert module.value.ok and "javascript" in module.value.headers["content-type"]
    address = page.get_by_role("textbox", name="Votre adresse e-mail")
    expect(address).to_be_focused()
    address.fill(CLAIRE)
    page.get_by_role("button", name="Recevoir le lien de connexion").click()
    expect(page.get_by_role("status")).to_contain_text(f"Un lien de connexion vous a été envoyé à {CLAIRE}.")

    link = mailed_link(folder / "mail", CLAIRE)
    page.goto(link)
    page.get_by_role("button", name="Me connecter").click()
    expect(page.locator(".comments-account")).to_contain_text("Connecté·e")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert page.url == base + ARTICLE, "back on the article, the session out of the address bar"
    assert fetched.count("comments-extra.js") >= 2, "signed in, the page loads it at once"
    assert page.js_errors == [] and page.csp_violations == [], (page.js_errors, page.csp_violations)


@pytest.mark.parametrize("path, ready", [(ARTICLE, ".comments-live article"), ("", None)], ids=["article", "planet"])
def test_no_third_party_request_and_at_most_60_kb(demo, page, path, ready):
    network, app, folder, base = demo
    weight = weigh(page, base + path, ready=ready)
    assert weight.third_party(base.rstrip("/")) == []
    sent = weight.gzipped(exclude=IMAGES)
    detail = [(f.url, len(f.body), f.gzipped) for f in weight.of(exclude=IMAGES)]
    assert sent <= PAGE_BUDGET, f"{sent} bytes without images (gzip -9), budget {PAGE_BUDGET}: {detail}"
    kinds = {f.kind for f in weight.responses}
    assert kinds <= {"document", "stylesheet", "script", "fetch", "font", *IMAGES}, kinds
    assert page.js_errors == [] and page.csp_violations == [], (page.js_errors, page.csp_violations)


@pytest.mark.parametrize("path", ["", "debats/", "blogs/", ARTICLE, "comments/thread?url={base}" + ARTICLE,
                                  "comments/auth"])
def test_every_kind_of_page_fits_a_320_px_phone(demo, page, path):
    """No sideways scrolling on the smallest phones: the planet's header search shrinks, long words wrap."""
    _network, _app, _folder, base = demo
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(base + path.format(base=base))
    assert page.evaluate("document.scrollingElement.scrollWidth - innerWidth") <= 0, path


def test_a_placeholder_is_as_readable_as_text(demo, page):
    """The header search's only visible label is its placeholder: the browser's own grey was under 4.5:1."""
    _network, _app, _folder, base = demo
    page.goto(base)
    ratio = page.evaluate("""() => {
      const lum = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const input = document.querySelector("#recherche-entete");
      const fg = lum(getComputedStyle(input, "::placeholder").color), bg = lum(getComputedStyle(input).backgroundColor);
      return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    }""")
    assert ratio >= 4.5, ratio
