"""Reading an export's XML: streamed, defused, and repaired of the few things real exports get wrong.

`XmlExport(path, what).events()` gives each element as it starts and ends; a gzipped file is read as is. The
parser is defusedxml's: entity declarations and external references are refused (no "billion laughs", no local
file read in). A file that cannot be read raises `ExportError` with its line, in French.

WordPress writes an export as it finds the database and the server: PHP notices printed before the XML
declaration (a plugin's deprecation warning on a host that shows errors), a blank line from a theme's
`functions.php`, control characters pasted into a comment (forbidden by XML 1.0), bytes that are not UTF-8 in a
file that says it is. WordPress's own importer falls back to regular expressions when its XML parser fails on
these; we repair them and still parse the file as XML (entities refused, structure checked), so that anything
else wrong is still refused with its line.

Line numbers are kept: no line break is removed except in the text before the declaration, and `line_offset`
says how many there were.
"""

from __future__ import annotations

import codecs
import gzip
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLPullParser
from xml.parsers.expat import errors

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

HEAD_BYTES = 1 << 16  # the declaration is looked for in the first 64 KiB (PHP notices are a few lines)
_DECLARATION = re.compile(rb"<\?xml[\s?]")
_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
# the control characters XML 1.0 forbids (C0 but tab and line breaks): vertical tab and form feed stand between words
# (a space), the others are dropped; as bytes, they are these in every ASCII-compatible encoding
_SPACED = bytes.maketrans(b"\x0b\x0c", b"  ")
_DROPPED = bytes(range(0x00, 0x09)) + bytes(range(0x0e, 0x20))
_CONTROLS = str.maketrans({**{c: None for c in map(chr, _DROPPED)}, "\x0b": " ", "\x0c": " "})
_CONTROL_REF = r"&#(?:0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01])|[xX]0*(?:[0-8]|[bBcCeEfF]|1[0-9a-fA-F]));"  # &#11;
_CONTROL_REF_BYTES = re.compile(_CONTROL_REF.encode("ascii"))
_CONTROL_REF_TEXT = re.compile(_CONTROL_REF)
_NONCHARACTERS = re.compile(rb"\xef\xbf[\xbe\xbf]")  # U+FFFE and U+FFFF in UTF-8 (in other encodings, other letters)
_NOT_UTF8 = re.compile("[\udc80-\udcff]+")  # what surrogateescape made of bytes that were not UTF-8

LABELS = {
    "preamble": ("ligne avant la déclaration XML ignorée (messages du serveur ?)",
                 "lignes avant la déclaration XML ignorées (messages du serveur ?)"),
    "control": ("caractère de contrôle retiré (interdit en XML)", "caractères de contrôle retirés (interdits en XML)"),
    "invalid_utf8": ("suite d'octets qui n'est pas de l'UTF-8 remplacée par « \ufffd »",
                     "suites d'octets qui ne sont pas de l'UTF-8 remplacées par « \ufffd »"),
    "trailing": ("texte après la fin de l'export ignoré", "textes après la fin de l'export ignorés"),
    "cdata": ("« ]]> » écrit dans un texte, gardé tel quel", "« ]]> » écrits dans des textes, gardés tels quels"),
    "bad_row": ("ligne de table illisible laissée de côté (colonnes en trop ou manquantes)",
                "lignes de table illisibles laissées de côté (colonnes en trop ou manquantes)"),
    "windows_1252": ("ligne qui n'est pas en UTF-8, lue en Windows-1252 (l'encodage des plateformes anciennes)",
                     "lignes qui ne sont pas en UTF-8, lues en Windows-1252 (l'encodage des plateformes anciennes)"),
}


class ExportError(Exception):
    """The file cannot be imported; `str()` is the message for the user (line included when known)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        where = f" (ligne {line}" + (f", colonne {column}" if column is not None else "") + ")" if line else ""
        super().__init__(f"{message}{where}")


def parts(path: str | Path, wanted: Callable[[str], bool], what: str) -> list[str | None]:
    """The documents of an export: [None] for a file (plain or gzipped), the names of the ZIP archive's members
    `wanted` keeps, in order, for an archive (WordPress.com mails its export as a ZIP of one or more `.xml` parts;
    Google Takeout gives a ZIP too)."""
    if not zipfile.is_zipfile(path):
        return [None]
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(info.filename for info in archive.infolist() if not info.is_dir()
                           and not info.filename.startswith("__MACOSX/") and wanted(info.filename))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError(f"archive ZIP illisible ({exc})") from None
    if not names:
        raise ExportError(f"l'archive ZIP ne contient pas {what}")
    return names


def open_export(path: Path, member: str | None = None) -> BinaryIO:
    """The file's bytes (or its ZIP member's), gunzipped when they are gzipped (whatever the name)."""
    if member is not None:
        archive = zipfile.ZipFile(path)
        try:
            if archive.getinfo(member).flag_bits & 0x1:
                raise ExportError("archive ZIP protégée par un mot de passe : décompressez-la d'abord")
            handle = archive.open(member)
        except NotImplementedError as exc:  # a compression zipfile does not read (« deflate64 »…)
            raise ExportError(f"archive ZIP illisible ({exc}) : décompressez-la d'abord") from None
        finally:
            archive.close()  # the member's stream keeps the file open until it is closed
        return handle
    handle = open(path, "rb")  # noqa: SIM115 - closed by the caller
    try:
        magic = handle.read(2)
        handle.seek(0)
    except OSError:
        handle.close()
        raise
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle, mode="rb")
    return handle


def export_bytes(path: str | Path, what: str) -> bytes:
    """The whole of a text export (Movable Type's, Dotclear's): plain, gzipped, or the one file of a ZIP archive."""
    [member, *others] = parts(path, lambda name: True, what)
    if others:
        raise ExportError(f"l'archive ZIP contient {len(others) + 1} fichiers : {what} seul attendu")
    try:
        with open_export(Path(path), member) as handle:
            return handle.read()
    except (gzip.BadGzipFile, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ExportError(_damaged(exc, member)) from None


def _damaged(exc: Exception, member: str | None) -> str:
    return f"archive ZIP abîmée ({exc})" if member is not None else f"fichier gzip illisible ({exc})"


class XmlExport:
    """An export's elements, streamed: `events()` yields ("start" | "end", element, depth), the root at depth 1
    (refused unless named `root`), and stops at the root's end (what follows it is checked, not read). `what` names
    the file in messages (« un export WordPress »). The caller drops what it has used (`parent.remove(child)`) to
    keep memory flat."""

    def __init__(self, path: str | Path, what: str, root: str, in_parts: str = "", member: str | None = None):
        self.path = Path(path)
        self.member = member  # a document of a ZIP archive (`parts`)
        self.what = what
        self.root_name = root  # the root element's local name: any other is "not an export of this kind"
        self.root: Element | None = None
        self.in_parts = in_parts  # how this system exports in several parts, when a file stops short
        self.reader: RepairingReader | None = None
        self._expat = None

    @property
    def repairs(self) -> Counter:
        return self.reader.repairs if self.reader else Counter()

    def line(self) -> int:
        """The line being read, in the file as it is (before the repairs)."""
        return (self._expat.CurrentLineNumber if self._expat else 0) + (self.reader.line_offset if self.reader else 0)

    def events(self, last_read: Callable[[], str] = lambda: "") -> Iterator[tuple[str, Element, int]]:
        """`last_read()`: the last thing read whole (« dernier billet lu en entier : … »), said when the file stops
        in the middle of the document."""
        xml_parser = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=False, forbid_entities=True, forbid_external=True)
        pull = XMLPullParser(events=("start", "end"), _parser=xml_parser)
        self._expat = xml_parser.parser
        depth = 0
        closing = False

        def parsed():
            """The events read so far, with their depth; the root checked as it starts."""
            nonlocal depth
            for event, elem in pull.read_events():
                depth += event == "start"
                if depth == 1 and event == "start":
                    self._check_root(elem)
                yield event, elem, depth
                depth -= event == "end"
                if depth == 0:  # the root's end: the export is whole
                    return

        try:
            with open_export(self.path, self.member) as handle:
                self.reader = RepairingReader(handle, self.root_name)
                chunks = self.reader.chunks()
                for chunk in chunks:
                    pull.feed(chunk)
                    yield from parsed()
                    if depth == 0 and self.root is not None:
                        self._read_rest(pull, chunks)
                        return
                closing = True
                pull.close()
                yield from parsed()
        except ParseError as exc:
            line, column = getattr(exc, "position", (None, None))
            line = line + self.reader.line_offset if line and self.reader else line
            if closing and depth > 0:
                last = last_read()
                raise ExportError(
                    f"export incomplet : le fichier s'arrête au milieu du document{' ; ' + last if last else ''}. Un "
                    "export interrompu (souvent par la limite de temps ou de mémoire du serveur qui l'a fait) : "
                    "refaites-le, ou en plusieurs fois" + (f" ({self.in_parts})" if self.in_parts else ""),
                    line, column) from None
            reason = french_reason(getattr(exc, "code", None), str(exc))
            if (line, column) == (1, 0) and self.reader and self.reader.start:
                reason += f" : le fichier commence par « {self.reader.start} »"
            raise ExportError(f"fichier XML mal formé : {reason}", line, column) from None
        except DefusedXmlException as exc:
            raise ExportError(
                f"refusé : le fichier déclare des entités XML ou des références externes ({exc.__class__.__name__}),"
                f" ce que ne fait jamais {self.what}", self.line()) from None
        except (gzip.BadGzipFile, EOFError, zlib.error, zipfile.BadZipFile) as exc:  # « Bad CRC-32 »…
            raise ExportError(_damaged(exc, self.member)) from None
        except UnicodeError as exc:
            raise ExportError(f"encodage du texte invalide ({exc})", self.line()) from None

    def _check_root(self, elem: Element) -> None:
        name = elem.tag.rpartition("}")[2]
        if name != self.root_name:
            raise ExportError(f"ce n'est pas {self.what} : l'élément racine est <{name}>, pas <{self.root_name}>",
                              self.line())
        self.root = elem

    def _read_rest(self, pull: XMLPullParser, chunks: Iterator[bytes]) -> None:
        """After the root: comments and blank lines are fine; anything else (PHP notices) is counted, not read."""
        try:
            for _ in pull.read_events():
                pass
            for chunk in chunks:
                pull.feed(chunk)
                for _ in pull.read_events():
                    pass
            pull.close()
        except ParseError:
            self.reader.repairs["trailing"] += 1


class RepairingReader:
    """Chunks of a binary export, repaired; `repairs` counts what was, by kind (see LABELS)."""

    def __init__(self, handle: BinaryIO, root: str, chunk: int = 1 << 16):
        self.handle = handle
        self.root = root.encode("ascii")  # the root element's name: what comes before it is never dropped
        self.chunk = chunk
        self.repairs: Counter = Counter()
        self.line_offset = 0
        self.start = ""  # the first line as read, for a message when even that is not XML
        self.in_cdata = False

    def chunks(self) -> Iterator[bytes]:
        head = self.handle.read(HEAD_BYTES)
        encoding = "utf-16"  # a UTF-16 byte order mark: no WordPress export; left to the parser as is
        if not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = self._without_preamble(head.removeprefix(b"\xef\xbb\xbf"))
            encoding = _declared_encoding(head)
            first = head[:200].decode("utf-8", "replace").strip().split("\n")[0][:80]
            self.start = "".join(c if c.isprintable() else " " for c in first).strip()
        if encoding.startswith(("utf-16", "utf-32")):
            yield from head.splitlines(keepends=True)
            yield from iter(lambda: self.handle.read(self.chunk), b"")
            return
        repair = self._utf8 if encoding == "utf-8" else self._bytes
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        # by line: the parser's line numbers stay exact
        yield from map(self._cdata, repair(head, decoder).splitlines(keepends=True))
        while line := self.handle.readline(self.chunk):
            yield self._cdata(repair(line, decoder))
        if encoding == "utf-8" and (tail := decoder.decode(b"", final=True)):
            yield self._text(tail).encode("utf-8")

    def _without_preamble(self, head: bytes) -> bytes:
        """The head from its XML declaration on, when something else comes first (whitespace, PHP notices)."""
        found = _DECLARATION.search(head)
        if found and found.start() > 0 and b"<" + self.root not in head[: found.start()]:
            start = found.start()
        else:
            start = len(head) - len(head.lstrip())  # whitespace before the root element: allowed, dropped all the same
        if start:
            dropped = head[:start]
            self.line_offset = dropped.count(b"\n")
            if dropped.strip():
                self.repairs["preamble"] += max(1, self.line_offset)
        return head[start:]

    def _cdata(self, line: bytes) -> bytes:
        """A « ]]> » inside a CDATA section that is not its end, written as XML allows (« ]]]]><![CDATA[> »).

        WordPress before 4.x wrote a post's text in a CDATA section as it was, so a post quoting « ]]> » (code, or
        a CDATA section of its own) ends the section early, and XML forbids the rest. In an export every CDATA
        section is followed by its element's end tag: a « ]]> » followed by anything else on its line is text."""
        if not self.in_cdata and b"<![CDATA[" not in line:
            return line
        out, position = [], 0
        while True:
            if not self.in_cdata:
                start = line.find(b"<![CDATA[", position)
                if start < 0:
                    out.append(line[position:])
                    break
                out.append(line[position : start + 9])
                position, self.in_cdata = start + 9, True
                continue
            end = line.find(b"]]>", position)
            if end < 0:
                out.append(line[position:])
                break
            rest = line[end + 3 :].lstrip()
            if rest and not rest.startswith(b"<"):
                out.append(line[position:end] + b"]]]]><![CDATA[>")
                self.repairs["cdata"] += 1
            else:
                out.append(line[position : end + 3])
                self.in_cdata = False
            position = end + 3
        return b"".join(out)

    def _bytes(self, data: bytes, _decoder=None) -> bytes:
        """An ASCII-compatible encoding, or valid UTF-8."""
        cleaned = data.translate(_SPACED, _DROPPED)
        if cleaned != data:
            self.repairs["control"] += len(data) - len(cleaned) + data.count(b"\x0b") + data.count(b"\x0c")
        if b"&#" in cleaned and _CONTROL_REF_BYTES.search(cleaned):
            cleaned, refs = _CONTROL_REF_BYTES.subn(b"", cleaned)
            self.repairs["control"] += refs
        return cleaned

    def _utf8(self, data: bytes, decoder) -> bytes:
        if decoder.getstate()[0] == b"":  # the common case, valid UTF-8 cut between two characters: not decoded
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                if b"\xef\xbf" in data:
                    data, found = _NONCHARACTERS.subn(b"", data)
                    self.repairs["control"] += found
                return self._bytes(data)
        return self._text(decoder.decode(data)).encode("utf-8")

    def _text(self, text: str) -> str:
        """Decoded UTF-8 with what was not UTF-8 as surrogates."""
        cleaned = text.translate(_CONTROLS)
        if cleaned != text:
            self.repairs["control"] += len(text) - len(cleaned) + text.count("\x0b") + text.count("\x0c")
        if "&#" in cleaned and _CONTROL_REF_TEXT.search(cleaned):
            cleaned, refs = _CONTROL_REF_TEXT.subn("", cleaned)
            self.repairs["control"] += refs
        if "\ufffe" in cleaned or "\uffff" in cleaned:
            cleaned, found = re.subn("[\ufffe\uffff]", "", cleaned)
            self.repairs["control"] += found
        cleaned, found = _NOT_UTF8.subn("\ufffd", cleaned)
        if found:
            self.repairs["invalid_utf8"] += found
        return cleaned


def _declared_encoding(head: bytes) -> str:
    """Python's name of the encoding the XML declaration gives; UTF-8 without one, or with one Python does not know
    (the parser then says so)."""
    found = _ENCODING.match(head)
    try:
        return codecs.lookup(found.group(1).decode("ascii")).name if found else "utf-8"
    except LookupError:
        return "utf-8"


_FRENCH = {
    errors.XML_ERROR_INVALID_TOKEN: "caractère ou balise invalide (un « & » ou un « < » non échappé ?)",
    errors.XML_ERROR_TAG_MISMATCH: "balise fermante qui ne correspond pas à la balise ouverte",
    errors.XML_ERROR_UNDEFINED_ENTITY: "entité inconnue en XML (un « &nbsp; » ou un « & » non échappé ?)",
    errors.XML_ERROR_MISPLACED_XML_PI: "déclaration XML ailleurs qu'au début du fichier",
    errors.XML_ERROR_BAD_CHAR_REF: "référence à un caractère interdit en XML",
    errors.XML_ERROR_UNKNOWN_ENCODING: "encodage de caractères inconnu",
    errors.XML_ERROR_INCORRECT_ENCODING: "le texte n'est pas dans l'encodage que déclare le fichier",
    errors.XML_ERROR_UNBOUND_PREFIX: "préfixe d'espace de noms non déclaré (un xmlns:… manque en tête du fichier)",
    errors.XML_ERROR_DUPLICATE_ATTRIBUTE: "attribut répété dans une balise",
    errors.XML_ERROR_SYNTAX: "erreur de syntaxe XML",
    errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "texte après la fin du document",
    errors.XML_ERROR_NO_ELEMENTS: "document vide ou interrompu",
    errors.XML_ERROR_UNCLOSED_TOKEN: "balise interrompue",
    errors.XML_ERROR_UNCLOSED_CDATA_SECTION: "section CDATA jamais fermée",
}


def french_reason(code: int | None, english: str) -> str:
    """expat's reason in French, its own words after it (they are what a search engine knows)."""
    english = re.sub(r": line \d+, column \d+$", "", english)
    french = _FRENCH.get(errors.messages.get(code, "")) if code else None
    return f"{french} (expat : {english})" if french else english
