"""Pelican plugin: nothing a post says makes Pelican read or write outside the blog's own folders.

Always loaded first (confreres.releases.PLUGINS). Between reading and writing, every file Pelican is about to
copy or write is checked: a `{static}`/`{attach}` link with `../` (or a symlink) that reaches a file outside
the blog's `content/`, a `Save_as` outside its output, a `Url`/`Save_as`/`Slug` whose address is not inside the
blog's own URL (a scheme, `//host`, `/…`, `..`), a `Template` that is not a plain template name. Each is logged as an error (the build, hence the push, fails and names it) and disarmed: not copied, not written.
"""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import urljoin, urlsplit

from pelican import signals

from confreres.checks import RealPaths, contents

logger = logging.getLogger(__name__)
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")  # a theme template: no dots, no ../
_METADATA = {"url": "Url ou Slug", "save_as": "Save_as", "slug": "Slug"}


def _inside(path: str, folder: str, real=os.path.realpath) -> bool:
    path, folder = real(path), real(folder)
    return path == folder or path.startswith(folder + os.sep)


def _name(path: str, content: str) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.dirname(os.path.abspath(content)))


# a path of plain names (letters, digits, « - », « _ », « . », « ~ »), none of them « .. »: Pelican's own addresses
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_~.-]+(?:/[A-Za-z0-9_~.-]+)*/?")
_CONTROL = re.compile(r"[\x00-\x1f]")


def _outside_url(siteurl: str, value) -> bool:
    """Whether `value`, a path Pelican puts after the blog's URL, leads anywhere else (another site, `..`)."""
    value = str(value or "")
    if not value:
        return False
    if _PLAIN_PATH.fullmatch(value) and ".." not in value.split("/"):
        return False  # stays under the blog's URL, as urljoin below would say: the common case, 3 addresses a post
    if "\\" in value or _CONTROL.search(value) or urlsplit(value).scheme or value.startswith("/"):
        return True  # backslashes act as `/` in browsers: `/\\host` is `//host`
    if ".." in value.split("/"):
        return True
    base = siteurl.rstrip("/") + "/"
    return not urljoin(base, value).startswith(base)


def _address(item, key: str) -> str:
    """The post's `Url` as Pelican computed it (from `Url` or `Slug`), or its `Save_as`/`Slug` metadata."""
    return str((item.url if key == "url" else item.metadata.get(key)) or "")


def _linking(generators, static, content: str) -> list[tuple[str, str]]:
    """(content/<post>, its link) for each post whose `{static}`/`{attach}` link names `static`: the file to fix."""
    target = os.path.realpath(static.source_path)
    return sorted({
        (_name(item.source_path, content), link)
        for generator in generators for item in contents(generator)
        for link in item.get_static_links() if os.path.realpath(os.path.join(content, link)) == target
    })


def check(generators):
    if not generators:
        return
    settings = generators[0].settings
    content, output = settings["PATH"], settings["OUTPUT_PATH"]
    real = RealPaths()
    for generator in generators:
        items = list(contents(generator))
        for item in items:
            if not _inside(item.source_path, content, real):
                logger.error("%s : ce fichier est hors du dossier content/ du blog : refusé",
                             _name(item.source_path, content))
                item.override_save_as = ""
            siteurl = settings.get("SITEURL", "")
            if item.save_as and not _inside(os.path.join(output, item.save_as), output, real):
                logger.error("%s : Save_as %r sort du site du blog : refusé", _name(item.source_path, content),
                             item.save_as)
                item.override_save_as = ""
            elif key := next((k for k in ("url", "save_as", "slug") if _outside_url(siteurl, _address(item, k))), ""):
                logger.error("%s : l'adresse « %s » (%s) sortirait du blog %s/ : refusé ; écrivez une adresse "
                             "relative au blog, sans « .. » ni « http: »", _name(item.source_path, content),
                             _address(item, key), _METADATA[key], siteurl)
                item.override_save_as = ""
            template = item.metadata.get("template")
            if template is not None and not TEMPLATE_NAME.fullmatch(str(template)):
                logger.error("%s : Template %r n'est pas un nom de gabarit : refusé",
                             _name(item.source_path, content), template)
                item.template = item.default_template
        for item in items:
            item.__class__ = _keeping(item.__class__)  # the addresses checked above are the ones written
        staticfiles = getattr(generator, "staticfiles", None)
        if staticfiles is None:
            continue
        for static in list(staticfiles):
            if not _inside(static.source_path, content, real) or not _inside(os.path.join(output, static.save_as), output, real):
                posts = _linking(generators, static, content)
                if posts:
                    for post, link in posts:
                        logger.error("%s : lien {static} ou {attach} vers « %s », un fichier hors du dossier content/ "
                                     "du blog : refusé", post, link)
                else:
                    logger.error("%s : lien {static} ou {attach} vers un fichier hors du dossier content/ du blog : "
                                 "refusé", _name(static.source_path, content))
                staticfiles.remove(static)
        generator.context["staticfiles"] = list(staticfiles)


_KEEPING: dict[type, type] = {}


def _keeping(cls: type) -> type:
    """`cls` (a Pelican Article, Page...) whose `url` and `save_as`, once computed, are kept on the post.

    Pelican formats a post's address again each time one is read, and each post is read by every list that
    names it (index pages, tags, categories, archives, feeds, sitemap): that was a fifth of a blog's build. Once
    the guard has checked them nothing changes them, and what is written is exactly what was checked. Same
    name as `cls` (Pelican reads settings by class name); not for Pelican's `generator` cache layer (pickles).
    """
    if cls in _KEEPING.values():
        return cls  # kept already
    kept = _KEEPING.get(cls)
    if kept is None:

        def address(key: str) -> property:
            def read(self):
                addresses = self.__dict__.setdefault("_guard_addresses", {})
                if key not in addresses:
                    addresses[key] = getattr(super(kept, self), key)
                return addresses[key]

            return property(read)

        kept = _KEEPING[cls] = type(cls.__name__, (cls,), {
            "url": address("url"), "save_as": address("save_as"), "__module__": cls.__module__,
            "__qualname__": cls.__qualname__})
    return kept


def register():
    signals.all_generators_finalized.connect(check)
