"""Phones and keyboards: every kind of page at 320 px, in Chromium emulating a phone (viewport meta honoured, touch),
on the committed demo network (conftest `demo`) given the comments that break layouts: a pseudonym and words with
no break, a long bare URL, a code block, replies nested deeper than the thread shows, and a moderation queue of
pending comments.

On each page: no sideways scrolling (the layout viewport stays 320 px wide: a phone widens it to fit what sticks
out, so `scrollWidth <= innerWidth` alone would pass), no element past the screen's edge outside a scrolling box,
form controls at least 24 px high (WCAG 2.5.8), check boxes and radio buttons 20 px (not the 13 px default), and every Tab stop on screen with a visible focus ring. The deepest
reply keeps a readable measure, and the hostile thread fits at 375 px and at 1280 px zoomed 200 % (640 CSS px).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from comments_service.core.db import connect
from comments_service.domain import comments as store
from confreres.seed import DEMO_FREE, make_directory_module
from tests.demo_kit import mailed_link
from tests.e2e.keyboard import tab_stops

from .test_page_weight import ARTICLE, CLAIRE

pytestmark = pytest.mark.e2e

THREAD = "comments/thread?url={base}" + ARTICLE
LONG_URL = "https://exemple.fr/" + "un-chemin-tres-long-sans-espace-" * 10 + "fin.html"
LONG_WORD = " ".join(["anticonstitutionnellement" * 3] * 3)
CODE = "```\nreponse = calcul_de_la_clairance(" + ", ".join(f"parametre_{i}" for i in range(20)) + ")\n```"
PSEUDONYM = "Lecteur" + "anticonstitutionnellement" * 3  # 82 characters, no break (at most 100)
LEVELS = 7  # deeper than the 5 levels the thread shows
PHONE = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True, "locale": "fr-FR"}
READABLE = 220  # px of text left to the deepest reply on a 320 px screen

ON_SCREEN = """() => {
  const W = innerWidth, hidden = ".visually-hidden, .skip, .skip-link, .hp, [hidden]";
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" &&
    e.className.trim() ? "." + e.className.trim().split(/\\s+/).join(".") : "");
  const scrolled = (e) => {  // inside a box that scrolls or clips sideways (a <pre>, a table's wrapper)
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== "visible") return true;
    return false;
  };
  const out = [], small = [];
  for (const e of document.body.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || e.closest(hidden) || getComputedStyle(e).visibility === "hidden") continue;
    if ((r.right > W + 0.5 || r.left < -0.5) && !scrolled(e)) out.push(`${name(e)} ${Math.round(r.left)}..${Math.round(r.right)}`);
    if (e.matches("button, input:not([type=checkbox], [type=radio]), select, textarea, summary") && r.height < 24)
      small.push(`${name(e)} ${Math.round(r.height)} px high`);
    if (e.matches("input[type=checkbox], input[type=radio]") && (r.height < 19 || r.width < 19))  // 13 px by default
      small.push(`${name(e)} ${Math.round(r.width)}x${Math.round(r.height)} px box`);
  }
  return {width: W, scroll: document.documentElement.scrollWidth, out: out.slice(0, 10), small: small.slice(0, 10)};
}"""


@pytest.fixture(scope="module")
def hostile(demo):
    """The demo with the article's hard thread (approved) and 20 first comments waiting for Claire; the blogs
    rebuilt so that the article's no-JS snapshot holds them too."""
    from confreres import build

    network, app, _folder, base = demo
    client = app.test_client()
    db = connect(app.config["DB"])
    try:
        parent = None
        for level in range(LEVELS):
            response = client.post("/api/comments", json={
                "url": base + ARTICLE, "parent": parent, "author": f"{PSEUDONYM}{level}", "email": f"n{level}@exemple.fr",
                "text": f"Niveau {level} : voir {LONG_URL}\n\n{LONG_WORD}\n\n{CODE}"})
            assert response.status_code == 201, response.get_data(as_text=True)
            parent = store.query_one(db, "SELECT max(id) AS id FROM comments")["id"]
            store.set_status(db, parent, "approved")
        for n in range(20):
            response = client.post("/api/comments", json={
                "url": base + ARTICLE, "author": f"Patient{n}{'x' * 60}", "email": f"attente{n}@exemple.fr",
                "text": f"Question {n} en attente : {LONG_URL} {LONG_WORD}"})
            assert response.status_code == 201, response.get_data(as_text=True)
    finally:
        db.close()
    results = build.build(network, force=True, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    return demo


@pytest.fixture
def phone(browser):
    """phone(js=True, **context) -> a page in a 320 px phone; js=False: the page's own scripts refused."""
    contexts = []

    def open_page(js: bool = True, **options):
        context = browser.new_context(**{**PHONE, **options})
        contexts.append(context)
        page = context.new_page()
        if not js:
            page.route("**/*", lambda route: route.abort() if route.request.resource_type == "script"
                       else route.continue_())
        return page

    yield open_page
    for context in contexts:
        context.close()


# -- how to reach each page: (page, base, mail folder) -> None ---------------------------------------------------

def at(path: str, ready: str | None = None) -> Callable:
    def reach(page, base, mail):
        page.goto(base + path.format(base=base))
        if ready:
            expect(page.locator(ready).first).to_be_visible()
    return reach


def ask_link(page, base, mail, email: str) -> str:
    seen = set(mail.glob("*.eml"))
    page.goto(base + "comments/auth")
    page.fill("#f-email", email)
    with page.expect_navigation():
        page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    return mailed_link(mail, email, seen)


def signed_in(email: str, path: str, ready: str | None = None) -> Callable:
    def reach(page, base, mail):
        page.goto(ask_link(page, base, mail, email))
        with page.expect_navigation():
            page.get_by_role("button", name="Me connecter").click()
        at(path, ready)(page, base, mail)
    return reach


def sign_in_link(page, base, mail):
    page.goto(ask_link(page, base, mail, "lien@exemple.fr"))


def declared(page, base, mail):
    """A physician of the demo directory has declared their RPPS number: the page with the vouching link."""
    body, last, first, _code, _label = DEMO_FREE[1]
    signed_in("julien@exemple.fr", "comments/verification")(page, base, mail)
    page.fill("#f-rpps", make_directory_module().luhn_complete(body))
    page.fill("#f-last_name", last)
    page.fill("#f-first_name", first)
    page.fill("#f-display_name", f"Dr {first} {last.title()}")
    with page.expect_navigation():
        page.get_by_role("button", name="Déclarer").click()
    expect(page.locator("#lien-parrainage")).to_be_visible()


PAGES = {  # name: (how to reach it, JavaScript on)
    "blog-home": (at("dr-lefebvre/"), True),
    "article": (at(ARTICLE, f"text={PSEUDONYM}{LEVELS - 1}"), True),
    "article-no-js": (at(ARTICLE, f"text={PSEUDONYM}{LEVELS - 1}"), False),
    "archives": (at("dr-lefebvre/archives.html"), True),
    "thread-no-js": (at(THREAD, f"text={PSEUDONYM}{LEVELS - 1}"), False),
    "planet": (at(""), True),
    "search": (at("recherche/?q=garde", ".planet-search-list li"), True),
    "blogs": (at("blogs/"), True),
    "debates": (at("debats/"), True),
    "service-debates": (at("comments/debats"), False),
    "feed-status": (at("etat-des-flux/"), True),
    "sign-in": (at("comments/auth"), False),
    "sign-in-link": (sign_in_link, False),
    "letter": (at("comments/lettre"), False),
    "account": (signed_in("compte@exemple.fr", "comments/account"), False),
    "verification": (signed_in("declaration@exemple.fr", "comments/verification"), False),
    "verification-declared": (declared, False),
    "moderation": (signed_in(CLAIRE, "comments/moderation", "text=Question 19 en attente"), False),
    "not-found": (at("dr-lefebvre/nulle-part.html"), True),
    "service-not-found": (at("comments/nulle-part"), False),
}


def fits(page, width: int, name: str) -> dict:
    found = page.evaluate(ON_SCREEN)
    assert found["width"] == width, f"{name}: laid out {found['width']} px wide on a {width} px screen {found['out']}"
    assert found["scroll"] <= width, f"{name}: scrolls sideways ({found['scroll']} px) {found['out']}"
    assert not found["out"], f"{name}: past the screen's edge: {found['out']}"
    return found


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_320_px_phone_and_the_keyboard(hostile, phone, name):
    base, mail = hostile[3], hostile[2] / "mail"
    reach, js = PAGES[name]
    page = phone(js)
    reach(page, base, mail)
    found = fits(page, 320, name)
    assert not found["small"], f"{name}: form controls under 24 px: {found['small']}"
    count, hidden = tab_stops(page)
    assert count >= 1 and not hidden, (name, hidden)


@pytest.mark.parametrize("name", ["article", "thread-no-js"])
def test_the_deepest_reply_stays_readable_at_320_px(hostile, phone, name):
    """Seven levels of replies, long words and URLs: the deepest comment's text keeps most of the screen."""
    base, mail = hostile[3], hostile[2] / "mail"
    reach, js = PAGES[name]
    page = phone(js)
    reach(page, base, mail)
    page.wait_for_load_state("networkidle")  # the widget has replaced the page's copy of the thread with its own
    deepest = page.locator("article").filter(has_text=f"Niveau {LEVELS - 1} ").last
    text = deepest.locator(".comment-text, .text").first
    text.wait_for(state="visible")
    box = text.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box
    assert box["width"] >= READABLE, f"{name}: {box['width']:.0f} px of text at the deepest level"


@pytest.mark.parametrize("name", ["article", "thread-no-js", "moderation"])
@pytest.mark.parametrize("view", [
    {"viewport": {"width": 375, "height": 700}},
    {"viewport": {"width": 640, "height": 400}, "is_mobile": False, "has_touch": False, "device_scale_factor": 2},
], ids=["375px", "1280px-at-200pct"])
def test_the_hard_pages_fit_other_widths(hostile, phone, name, view):
    base, mail = hostile[3], hostile[2] / "mail"
    reach, js = PAGES[name]
    page = phone(js, **view)
    reach(page, base, mail)
    fits(page, view["viewport"]["width"], name)
