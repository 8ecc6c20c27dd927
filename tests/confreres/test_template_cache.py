"""Compiled templates kept between Pelican runs (confreres.releases.TemplateCache, issue 14)."""

import jinja2

from confreres.releases import TemplateCache


def _render(folder, cache_dir, autoescape: bool) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=autoescape,
                             bytecode_cache=TemplateCache(str(cache_dir)))
    return env.get_template("page.html").render(title="<script>alert(1)</script>")


def test_autoescape_is_part_of_the_key(tmp_path):
    """The planet renders the theme with autoescape on, the blogs' Pelican with it off: a template compiled
    without escaping must never be served to the escaping environment from the shared cache."""
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "page.html").write_text("<h1>{{ title }}</h1>", encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    assert _render(tmp_path / "t", cache, autoescape=False) == "<h1><script>alert(1)</script></h1>"
    assert _render(tmp_path / "t", cache, autoescape=True) == "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"
    assert len(list(cache.iterdir())) == 2


def test_compiled_once_then_loaded_and_recompiled_when_edited(tmp_path, monkeypatch):
    (tmp_path / "t").mkdir()
    page = tmp_path / "t" / "page.html"
    page.write_text("<h1>{{ title }}</h1>", encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    _render(tmp_path / "t", cache, autoescape=True)
    compiled = []
    original = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k))
    assert _render(tmp_path / "t", cache, autoescape=True).startswith("<h1>&lt;")
    assert compiled == []  # a second process loads the compiled code
    page.write_text("<h2>{{ title }}</h2>", encoding="utf-8")
    assert _render(tmp_path / "t", cache, autoescape=True).startswith("<h2>&lt;")
    assert compiled == [1]  # the source changed: compiled again
