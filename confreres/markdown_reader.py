"""Pelican's Markdown reader, with one Markdown instance for all the posts of a build instead of one per post.

Pelican makes a new `Markdown` (and loads its extensions again) for every file it reads: about 5% of a blog's
build. Python-Markdown converts any number of documents with one instance, `reset()` between them (extensions
clear their state: footnotes, abbreviations, the table of contents, `Meta`). Formatted metadata (`Summary:`)
is converted by a second instance without the `meta` preprocessor, which Pelican's `_parse_metadata` removes.
Dates written the French way (« 01/03/2025 », « 1er mars 2025 ») are read as French readers mean them; dates
written as ISO 8601 without a zone (« 2025-03-01 08:30 », as most posts and every import write them) are read
without dateutil's general parser, the same datetime for ~5 % less of a blog's build.
"""

from __future__ import annotations

import re

from markdown import Markdown
from pelican.readers import MarkdownReader
from pelican.utils import SafeDatetime, pelican_open

from confreres.french import date_as_written_in_french
from confreres.markdown_fast import guard


class ReusedMarkdownReader(MarkdownReader):
    """Selected by the network's settings (confreres.releases: READERS) for every Markdown extension."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._document: Markdown | None = None
        self._fields: Markdown | None = None

    def read(self, source_path):
        self._source_path = source_path
        if self._document is None:
            self._document = guard(Markdown(**self.settings["MARKDOWN"]))
            self._fields = guard(Markdown(**self.settings["MARKDOWN"]))
            fields = self._fields.preprocessors
            fields.deregister("meta")
            # Pelican's _parse_metadata removes `meta` from the instance it converts fields with, each time
            fields.deregister = lambda name, strict=True: type(fields).deregister(fields, name, strict=False)
        self._document.reset()
        with pelican_open(source_path) as text:
            content = self._document.convert(text)
        self._md = self._fields
        meta = getattr(self._document, "Meta", None)
        return content, self._parse_metadata(meta) if meta else {}

    def process_metadata(self, name, value):
        # « Date: 01/03/2025 » is the 1st of March here; Pelican (dateutil) would read the 3rd of January
        if name in ("date", "modified") and isinstance(value, str):
            value = date_as_written_in_french(value) or value
            moment = iso_date(value)
            if moment is not None:
                return moment
        return super().process_metadata(name, value)


_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d))?)?")


def iso_date(value: str) -> SafeDatetime | None:
    """« 2025-03-01 », « 2025-03-01 08:30[:15] » (or with a « T ») as Pelican's get_date reads it (dateutil, a
    SafeDatetime, naive); None for anything else, which Pelican then reads (a zone, a partial date, an error)."""
    match = _ISO_DATE.fullmatch(value.strip())
    if match is None:
        return None
    try:
        return SafeDatetime(*(int(part) for part in match.groups() if part is not None))
    except ValueError:
        return None  # not a real day or hour: Pelican's own message
