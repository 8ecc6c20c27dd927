"""`confreres preview`: a blog built with its drafts and scheduled posts, into a private folder.

The live build never writes a draft, nor a post dated in the future before its date
(confreres.releases.pelican_settings). The preview is the same build with them, written to
`var/preview/<slug>/` by default: outside the published folder, so neither `confreres serve` nor the
web server shows it, and with relative links so it opens from the disk. Nothing is swapped live,
announced to the comment service, or read by the planet and the other blogs.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from confreres import registry
from confreres.build import SiteResult
from confreres.registry import Network
from confreres.releases import BuildError, process_pool_context, run_pelican

PREVIEW_SETTINGS = {
    "DRAFT_SAVE_AS": "drafts/{slug}.html",
    "DRAFT_LANG_SAVE_AS": "drafts/{slug}-{lang}.html",
    "DRAFT_PAGE_SAVE_AS": "drafts/pages/{slug}.html",
    "DRAFT_PAGE_LANG_SAVE_AS": "drafts/pages/{slug}-{lang}.html",
    "WITH_FUTURE_DATES": True,
    "RELATIVE_URLS": True,
    # Not the live build's cache: nothing read here must come back into a live build.
    "CACHE_CONTENT": False,
    "LOAD_CONTENT_CACHE": False,
}


def default_folder(network: Network, slug: str) -> Path:
    return network.root / "var" / "preview" / slug


def preview_site(network_file: str, slug: str, out: str, source: str | None = None) -> SiteResult:
    """Build `slug` (or the site folder `source`) with its drafts into `out`, replaced. Runs in a child process."""
    from confreres.checks import outside_warnings, secrecy_warnings, unknown_replies, withheld

    network = registry.load(network_file)
    site = network.site(slug)
    src = Path(source) if source else site.path
    target = Path(out)
    try:
        if not (src / "content").is_dir():
            raise BuildError(f"{slug} : pas de dossier content/ dans {src}")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        # the other blogs' published posts (read only): the preview shows the answers between blogs too
        extra = PREVIEW_SETTINGS | {"NETWORK_OUTPUT": str(Path(network.output).resolve())}
        articles = run_pelican(network, site, src, target, extra=extra)
        name_index_pages(target)
    except BuildError as exc:
        return SiteResult(slug, ok=False, error=str(exc))
    return SiteResult(slug, ok=True, release=str(target), articles=articles, withheld=withheld(),
                      secrecy=secrecy_warnings(), outside=outside_warnings(),
                      replies=unknown_replies())


# a relative link to a folder of the preview (« ../ », « 2025/01/10/slug/ »): no scheme, no leading slash
FOLDER_LINK = re.compile(r'(\shref=")((?![a-zA-Z][a-zA-Z0-9+.-]*:|/)[^"?#]*/)([?#][^"]*)?"')


def name_index_pages(folder: Path) -> None:
    """Opened from the disk (file://), a link to a folder shows its listing, not its index.html: each is named."""
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        named = FOLDER_LINK.sub(lambda m: f'{m[1]}{m[2]}index.html{m[3] or ""}"', text)
        if named != text:
            page.write_text(named, encoding="utf-8")


def preview(network: Network, slug: str, out: Path | None = None, source: Path | None = None) -> SiteResult:
    """The preview of one blog, built in a fresh process as every build (Pelican's state is process-global)."""
    from concurrent.futures import ProcessPoolExecutor

    network.site(slug)  # KeyError with the known slugs
    target = Path(out or default_folder(network, slug)).resolve()
    published = Path(network.output).resolve()
    if target == published or published in target.parents:
        raise BuildError(f"{slug} : l'aperçu ne doit pas être écrit dans {published}, le dossier publié.")
    with ProcessPoolExecutor(max_workers=1, mp_context=process_pool_context()) as pool:
        return pool.submit(preview_site, str(network.source), slug, str(target),
                           str(source) if source else None).result()
