"""The widget's budget and hygiene, without a browser: the first part <= 8 KB gzipped, CSP-friendly, no stray innerHTML."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

WIDGET = Path(__file__).resolve().parents[2] / "themes" / "confreres" / "static" / "js" / "comments.js"
EXTRA = WIDGET.with_name("comments-extra.js")  # imported on demand (sign-in, account, edits, reports)
COUNTS = WIDGET.with_name("comment-counts.js")  # the list pages' counts
BUDGET = 8 * 1024


def gzip9_size(path: Path) -> int:
    """Bytes of `gzip -9 -c path` (the command when present, else the same DEFLATE level in Python)."""
    if shutil.which("gzip"):
        return len(subprocess.run(["gzip", "-9", "-c", str(path)], check=True, capture_output=True).stdout)
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def served(path: Path, tmp_path: Path) -> Path:
    """The file as the build serves it (confreres.releases.theme_static: minified), under the same name."""
    from confreres.releases import minified_js

    copy = tmp_path / path.name
    copy.write_bytes(minified_js(path.read_bytes()))
    return copy


def test_widget_fits_its_budget(tmp_path):
    """What an article's first load fetches, minified as the build serves it (tests/e2e/test_page_weight.py
    measures it in Chromium too): the source keeps its comments and indentation outside the budget."""
    size = gzip9_size(served(WIDGET, tmp_path))
    assert size <= BUDGET, f"comments.js is {size} bytes gzipped once minified, budget {BUDGET}"
    assert gzip9_size(WIDGET) > size  # the readable source is not what is measured


def test_minified_scripts_keep_what_they_run_by(tmp_path):
    """rjsmin drops comments and blanks only: the widget's on-demand import beside it and its regex; every string
    and template literal of each theme script kept whole. rjsmin reads a template literal only unnested: a
    `${…}` holding another one would have its inner text minified as code (a `//` in it cuts the script)."""
    text = served(WIDGET, tmp_path).read_text(encoding="utf-8")
    assert 'import(JS+"comments-extra.js")' in text
    assert 'const JS=((d.currentScript&&d.currentScript.src)||"").replace(/[^/]*$/,"");' in text
    for path in sorted(WIDGET.parent.glob("*.js")):
        text = served(path, tmp_path).read_text(encoding="utf-8")
        assert "/*" not in text and "\n " not in text, path.name
        code = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)  # no "/*" in their strings
        code = re.sub(r"^\s*//.*$", "", code, flags=re.M)
        assert not re.search(r"\$\{[^}`]*`", code), f"{path.name}: a template literal inside another"
        literals = re.findall(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`', code)
        assert literals and [s for s in literals if s not in text] == [], path.name


def test_widget_is_csp_friendly_and_only_injects_sanitised_html():
    for path in (WIDGET, EXTRA, COUNTS):
        source = path.read_text(encoding="utf-8")
        for forbidden in ("eval(", "new Function", "document.write", "setAttribute(\"on", "insertAdjacentHTML",
                          "outerHTML", "<script"):
            assert forbidden not in source, (path.name, forbidden)
        assert not re.search(r"setTimeout\(\s*['\"`]", source), "string timers are eval"
        assert 'credentials: "omit"' in source or path is EXTRA, path.name  # the extra part calls through call()
        if path is not WIDGET:
            assert "innerHTML" not in source, path.name
    # the on-demand part comes from the theme's own js/ folder (the CSP's script-src), beside comments.js
    source = WIDGET.read_text(encoding="utf-8")
    assert 'import(JS + "comments-extra.js")' in source
    # innerHTML only in rich(html), which takes only what the service sanitised: a comment's or a
    # mention's `html`, a verified member's `interests`.
    assignments = re.findall(r"(\w+(?:\.\w+)*)\.innerHTML\s*=\s*([^;]+);", source)
    assert assignments == [("e", "html")], assignments
    assert "const rich = (html, cls) =>" in source
    callers = set(re.findall(r"\brich\(([^,)]+)", source)) - {"html"}
    assert callers == {"c.html", "a.interests", "x.html"}, callers
    assert "credentials: \"omit\"" in source and "mode: \"cors\"" in source


def test_snapshot_shows_the_api_badge_label_and_its_tooltip():
    """The build-time snapshot carries the API's badge object ({level, label, title}), not a string."""
    from types import SimpleNamespace

    from jinja2 import Environment, FileSystemLoader

    from confreres.french import JINJA_FILTERS

    env = Environment(loader=FileSystemLoader(WIDGET.parents[2] / "templates"))
    env.filters.update(JINJA_FILTERS)
    badge = {"level": "verified", "label": "Médecin vérifié · Pédiatrie", "title": "Inscription <vérifiée>"}
    comment = {
        "id": 1, "author_name": "Dr X", "author_website": "", "badge": badge, "is_post_author": True,
        "html": "<p>Bonjour</p>", "created": "2025-03-03T10:00:00Z", "created_fr": "3 mars 2025",
        "deleted": False, "replies": [],
    }
    article = SimpleNamespace(url="billet.html", comments_mode="open", comments=None, comments_snapshot=[comment])
    html = env.get_template("_comments.html").render(
        article=article, SITEURL="https://blog.example", COMMENTS_URL="https://c.example/"
    )
    assert '<span class="badge badge--verified" title="Inscription &lt;vérifiée&gt;">Médecin vérifié · Pédiatrie</span>' in html
    assert "{&#39;level&#39;" not in html and "'level'" not in html


def test_one_wording_for_declared_links_of_interest():
    """« Liens d'intérêts » (CSP L.4113-13, the ethics reference's term) in the widget, the no-JS thread page,
    the profile and account pages, the READMEs and docs/*.md; never another name for the same thing."""
    root = WIDGET.parents[4]
    templates = root / "comments_service" / "templates"
    places = {
        WIDGET: "\"Liens d'intérêts déclarés par \" + a.name",
        templates / "_comment.html": "Liens d'intérêts déclarés par {{ c.author.name }}",
        templates / "profile.html": ">Liens d'intérêts déclarés<",
        templates / "account.html": ">Liens d'intérêts déclarés <",
        root / "docs" / "verification.md": "« Liens d'intérêts déclarés par … »",
        WIDGET.parents[2] / "README.md": "« Liens d'intérêts déclarés par … »",
    }
    # The root README and the other docs need not use the wording, but must never use another.
    docs = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    for path in [*places, *docs]:
        text = path.read_text(encoding="utf-8")
        if path in places:
            assert places[path] in text, (path, places[path])
        for other in ("Déclaration d'intérêts", "déclaration d'intérêts", "Déclaration de liens", "declaration of interests"):
            assert other not in text, (path, other)
