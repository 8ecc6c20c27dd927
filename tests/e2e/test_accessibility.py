"""Accessibility audit: axe-core (the `axe-playwright-python` package) on every kind of page a reader, a physician
or a blogger meets, on the committed demo network served as `make demo` serves it (conftest `demo`).

Each page is audited against the WCAG 2.0/2.1/2.2 A and AA rules and axe's best practices, in the state a user
sees it: the article with the widget's thread loaded, and without JavaScript; the comment service's forms signed
out and signed in (a reader, a physician, the author of a blog with a comment waiting). A failure names the page,
and lists each rule broken, its impact and the selectors of the failing nodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from confreres.seed import DEMO_FREE, make_directory_module
from tests.demo_kit import mailed_link
from tests.e2e.keyboard import tab_stops

from .test_page_weight import ARTICLE, CLAIRE

pytestmark = pytest.mark.e2e

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright", reason="pip install -e '.[test]'")

RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                               "best-practice"]},
         "resultTypes": ["violations"]}
THREAD = "comments/thread?url={base}" + ARTICLE
PHONE = {"width": 360, "height": 740}


def violations(page) -> list[dict]:
    """axe's violations on the page as it is now (injected through the DevTools protocol: no CSP applies)."""
    return axe_playwright.Axe().run(page, options=RULES).response["violations"]


def report(found: list[dict]) -> str:
    lines = []
    for rule in found:
        lines.append(f"{rule['id']} ({rule['impact']}): {rule['help']}")
        for node in rule["nodes"]:
            why = (node.get("failureSummary") or "").splitlines()
            lines.append(f"    {' '.join(map(str, node['target']))}  {why[1].strip() if len(why) > 1 else ''}")
    return "\n".join(lines)


# -- how to reach each page: (page, demo) -> None, the page left in the state to audit ----------------------------

def at(path: str, ready: str | None = None) -> Callable:
    def reach(page, demo):
        page.goto(demo[3] + path.format(base=demo[3]))
        if ready:
            expect(page.locator(ready).first).to_be_visible()
    return reach


def ask_link(page, demo, email: str) -> str:
    """The no-JS sign-in form filled and sent: the link the mail brought."""
    base, mail = demo[3], demo[2] / "mail"
    seen = set(mail.glob("*.eml"))
    page.goto(base + "comments/auth")
    page.fill("#f-email", email)
    with page.expect_navigation():
        page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    return mailed_link(mail, email, seen)


def sign_in(page, demo, email: str) -> None:
    """The no-JS sign-in as a person does it: the form, the mail's link, « Me connecter »."""
    page.goto(ask_link(page, demo, email))
    with page.expect_navigation():
        page.get_by_role("button", name="Me connecter").click()


def signed_in(email: str, path: str, before: Callable | None = None, ready: str | None = None) -> Callable:
    def reach(page, demo):
        if before:
            before(demo)
        sign_in(page, demo, email)
        at(path, ready)(page, demo)
    return reach


def sign_in_link(page, demo):
    page.goto(ask_link(page, demo, "lien@exemple.fr"))


def sign_in_error(page, demo):
    page.goto(demo[3] + "comments/auth")
    page.fill("#f-email", "pas-une-adresse")
    with page.expect_navigation():
        page.get_by_role("button", name="Recevoir mon lien de connexion").click()


def a_comment_waits(demo) -> None:
    """A guest's first comment on Claire's blog: pending under the network's first-comment policy (409: already
    sent by an earlier test of the module, and still waiting)."""
    response = demo[1].test_client().post("/api/comments", json={
        "url": demo[3] + ARTICLE, "text": "Une première question, en attente.", "author": "Lecteur de passage",
        "email": "passage@exemple.fr"})
    assert response.status_code in (201, 409), response.get_data(as_text=True)


def declared(page, demo):
    """A physician of the demo directory has declared their RPPS number: their page shows the vouching link."""
    body, last, first, _code, _label = DEMO_FREE[0]
    sign_in(page, demo, "camille@exemple.fr")
    page.goto(demo[3] + "comments/verification")
    page.fill("#f-rpps", make_directory_module().luhn_complete(body))
    page.fill("#f-last_name", last)
    page.fill("#f-first_name", first)
    page.fill("#f-display_name", f"Dr {first} {last.title()}")
    with page.expect_navigation():
        page.get_by_role("button", name="Déclarer").click()
    expect(page.locator("#lien-parrainage")).to_be_visible()


def vouch(page, demo):
    """Claire, verified, opens the vouching link a candidate sent her."""
    declared(page, demo)
    link = page.input_value("#lien-parrainage")
    page.context.clear_cookies()
    sign_in(page, demo, CLAIRE)
    page.goto(link)


def widget_sign_in(page, demo):
    at(ARTICLE, ".comments-live article")(page, demo)
    page.get_by_role("button", name="Se connecter par un lien envoyé par e-mail").click()
    expect(page.get_by_role("textbox", name="Votre adresse e-mail")).to_be_focused()


def widget_reply(page, demo):
    at(ARTICLE, ".comments-live article")(page, demo)
    page.locator(".comments-live article").first.get_by_role("button", name="Répondre").click()
    expect(page.locator("#cf-title")).to_contain_text("Répondre à")


def widget_errors(page, demo):
    """The widget's form sent with a bad e-mail: the error beside its field."""
    at(ARTICLE, ".comments-live article")(page, demo)
    page.locator("#cf-text").fill("Une question.")
    page.get_by_label("Me prévenir des réponses par e-mail").check()
    page.get_by_role("button", name="Publier").click()
    expect(page.locator("#cf-email-err")).to_be_visible()


def widget_pending(page, demo):
    """A guest's first comment, posted from the widget: shown to them only, waiting, with « Modifier »."""
    at(ARTICLE, ".comments-live article")(page, demo)
    page.locator("#cf-text").fill("Ma première question, depuis le widget.")
    page.locator("#cf-author").fill("Lectrice du widget")
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("button", name="Modifier votre commentaire")).to_be_visible()


def thread_errors(page, demo):
    """The no-JS thread form sent empty: the list of errors, each field marked."""
    at(THREAD)(page, demo)
    with page.expect_navigation():
        page.get_by_role("button", name="Publier").click()
    expect(page.locator("#erreurs")).to_be_visible()


PAGES = {  # name: (how to reach it, JavaScript on)
    "blog-home": (at("dr-lefebvre/"), True),
    "article": (at(ARTICLE, ".comments-live article"), True),
    "article-reply-form": (widget_reply, True),
    "article-sign-in-form": (widget_sign_in, True),
    "article-form-errors": (widget_errors, True),
    "article-pending-comment": (widget_pending, True),
    "article-no-js": (at(ARTICLE), False),
    "tag": (at("dr-lefebvre/tag/epuisement.html"), True),
    "category": (at("dr-lefebvre/category/organisation-des-soins.html"), True),
    "archives": (at("dr-lefebvre/archives.html"), True),
    "about": (at("dr-lefebvre/pages/a-propos.html"), True),
    "planet": (at(""), True),
    "search": (at("recherche/"), True),
    "debates": (at("debats/"), True),
    "blogs": (at("blogs/"), True),
    "specialties": (at("specialites/"), True),
    "thread-no-js": (at(THREAD), False),  # the service's pages have no script: audited as they are
    "thread-form-errors": (thread_errors, False),
    "sign-in": (at("comments/auth"), False),
    "sign-in-error": (sign_in_error, False),
    "sign-in-link": (sign_in_link, False),
    "letter": (at("comments/lettre"), False),
    "charter": (at("comments/charte"), False),
    "account": (signed_in("compte@exemple.fr", "comments/account"), False),
    "thread-signed-in": (signed_in("fil@exemple.fr", THREAD), False),
    "verification": (signed_in("declaration@exemple.fr", "comments/verification"), False),
    "verification-declared": (declared, False),
    "verification-vouch": (vouch, False),
    "moderation": (signed_in(CLAIRE, "comments/moderation", a_comment_waits,
                                        "text=Une première question, en attente."), False),
}


@pytest.fixture
def audited(page):
    """page(js=True) -> the Playwright page; js=False: as a browser without JavaScript shows it.

    The page's own scripts are refused rather than JavaScript turned off (axe is JavaScript: with it off,
    page.evaluate never returns). Every script of the theme is a file (the CSP allows no inline one); the only
    <noscript> is the search page's, audited with JavaScript.
    """

    def open_page(js: bool = True):
        if not js:
            page.route("**/*", lambda route: route.abort() if route.request.resource_type == "script"
                       else route.continue_())
        return page

    return open_page


def audit(page, demo, name: str, where: str = "") -> None:
    """Reach page `name` in `page` and assert axe finds nothing; the message lists what it found."""
    PAGES[name][0](page, demo)
    found = violations(page)
    assert not found, f"{name}{where} ({page.url}):\n{report(found)}"


@pytest.mark.parametrize("name", PAGES)
def test_page_passes_axe(demo, audited, name):
    audit(audited(PAGES[name][1]), demo, name)


@pytest.mark.parametrize("name", ["article", "article-form-errors", "article-no-js", "thread-no-js", "planet",
                                  "sign-in"])
def test_page_passes_axe_on_a_phone(demo, audited, name):
    """Contrast and reflow at 360 px: no sideways scrolling either."""
    page = audited(PAGES[name][1])
    page.set_viewport_size(PHONE)
    audit(page, demo, name, f" on a {PHONE['width']} px phone")
    assert page.evaluate("document.scrollingElement.scrollWidth - innerWidth") <= 0, f"{name} scrolls sideways"


@pytest.mark.parametrize("name", ["blog-home", "article", "article-form-errors", "article-no-js", "archives",
                                  "planet", "search", "debates", "blogs"])
def test_page_passes_axe_in_dark_mode(demo, audited, name):
    """The theme's dark colours (prefers-color-scheme: dark) are contrasted too."""
    page = audited(PAGES[name][1])
    page.emulate_media(color_scheme="dark")
    audit(page, demo, name, " in dark mode")


@pytest.mark.parametrize("name", ["article", "thread-no-js", "moderation"])
def test_every_tab_stop_shows_where_the_focus_is(demo, audited, name):
    """Keyboard: each Tab stop, from the skip link to the last button, is on screen with a visible focus ring
    (axe does not look at focus)."""
    page = audited(PAGES[name][1])
    PAGES[name][0](page, demo)
    stops, hidden = tab_stops(page)
    assert stops > 3 and not hidden, (name, hidden)


def test_the_audit_fails_on_a_broken_page(page):
    """The audit is not blind: an unlabelled field and grey-on-white text are reported."""
    page.set_content('<html lang="fr"><head><title>t</title></head><body><main><h1>Essai</h1>'
                     '<input id="x"><p style="color:#bbb">pâle</p></main></body></html>')
    found = violations(page)
    assert {"label", "color-contrast"} <= {rule["id"] for rule in found}, found
    assert re.search(r"^label \((critical|serious)\): .*\n    #x ", report(found), re.M), report(found)
