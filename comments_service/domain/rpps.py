"""The RPPS directory: the state's open extract of health professionals, reduced to physicians.

The extract (`PS_LibreAcces_Personne_activite_*.txt`, ~2 million rows, ~800 MB) is streamed,
never loaded whole. Only profession 10 (médecin) rows and the few columns that verification needs
are kept, in a SQLite file of its own: the import writes a new file and swaps it in with one
`rename`, so lookups never see half an import and the comment database is never locked by it.
Addresses and phones are never kept. The published zip is read as it comes (its Personne_activite
member, streamed). Every line must have as many fields as the header: a damaged or cut-short line
stops the import with its number, rather than being skipped or read with its values shifted.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from confreres.french import ISO_Z

# The name normalisation lives in the leaf confreres.names (the schema's migration m027 computes with it too);
# re-exported here, where the directory's lookups and their callers have always found it.
from confreres.names import CONFUSABLES as CONFUSABLES
from confreres.names import LOOKALIKES as LOOKALIKES
from confreres.names import TITLE_RE as TITLE_RE
from confreres.names import name_key, name_keys, normalise
from confreres.names import name_tokens as name_tokens
from confreres.names import scripts as scripts
from confreres.names import skeleton as skeleton

PHYSICIAN = "10"
# Normalised header name -> our column. Labels drift slightly between versions: match on the normalised form.
COLUMNS = {
    "identifiant pp": "rpps",
    "nom d'exercice": "last_name",
    "prenom d'exercice": "first_name",
    "code profession": "profession",
    "code type savoir-faire": "skill_type",
    "code savoir-faire": "skill_code",
    "libelle savoir-faire": "skill_label",
    "code departement (structure)": "department",
}
OPTIONAL = {"department"}
BATCH = 20_000
# A new extract with fewer physicians than this share of the directory in place is refused unless accepted:
# the real directory changes by a few hundred a day, a cut-short or wrong file by far more.
SHRINK_FLOOR = 0.9


class DirectoryError(Exception):
    """An extract that cannot be imported; the message says what is wrong and where."""


class DirectoryShrank(DirectoryError):
    """An extract with far fewer physicians than the directory it would replace (import it with accept_shrink)."""


@dataclass(frozen=True)
class Physician:
    rpps: str
    last_name: str
    first_name: str
    specialties: tuple[str, ...]  # labels of "Spécialité ordinale" (type S), as the file spells them
    specialty_codes: tuple[str, ...]


@dataclass
class ImportReport:
    rows: int = 0
    physician_rows: int = 0
    physicians: int = 0
    seconds: float = 0.0



def luhn_ok(number: str) -> bool:
    """Luhn over the 11 digits of an RPPS; the national form (8 + RPPS, 12 digits) is accepted."""
    rpps = canonical_rpps(number)
    if rpps is None:
        return False
    total = 0
    for index, char in enumerate(reversed(rpps)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def canonical_rpps(number: str) -> str | None:
    """The 11-digit RPPS from what a person typed or a provider sent, or None."""
    digits = "".join(c for c in str(number or "") if not c.isspace())
    if len(digits) == 12 and digits.startswith("8"):
        digits = digits[1:]
    return digits if len(digits) == 11 and digits.isdigit() else None


def _header_map(header: list[str]) -> dict[str, int]:
    names = [normalise(h) for h in header]
    positions = {}
    missing = []
    for key, column in COLUMNS.items():
        if key in names:
            positions[column] = names.index(key)
        elif column not in OPTIONAL:
            missing.append(key)
    if missing:
        raise DirectoryError(
            "the extract lacks the column(s): " + ", ".join(repr(m) for m in missing)
            + " (is it a PS_LibreAcces_Personne_activite file?)"
        )
    return positions


def _utf8_lines(handle, name: str):
    """Decode line by line so that a bad byte is reported with its exact line number.

    A byte order mark before the header is dropped (its first label would not match); a last line without its
    line end whose bytes stop inside a character is a cut-short file (an interrupted download), not Windows-1252.
    """
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if not raw.endswith(b"\n") and exc.reason == "unexpected end of data":
                raise DirectoryError(f"{name}: line {number}: {CUT_SHORT}") from None
            raise DirectoryError(
                f"{name}: line {number} is not UTF-8 ({exc.reason} at column {exc.start + 1}); "
                "some copies are Windows-1252: convert the file to UTF-8"
            ) from None


CUT_SHORT = "the file stops in the middle of this line: an interrupted download? Download it again"


def _fields(row: list[str]) -> list[str]:
    """The row without the empty field after its trailing `|` (every line of the extract ends with one)."""
    return row[:-1] if row and row[-1] == "" else row


@contextmanager
def _open_extract(source: Path) -> Iterator[tuple[BinaryIO, str]]:
    """`(binary stream, name)` of the extract: the file itself, or the Personne_activite member of the zip
    the extract is published in (read as a stream, never unpacked to disk)."""
    if not zipfile.is_zipfile(source):
        with open(source, "rb") as handle:
            yield handle, source.name
        return
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise DirectoryError(f"{source.name}: damaged zip file ({exc})") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        wanted = [m for m in members if "personne_activite" in m.filename.casefold()]
        if len(wanted) != 1:
            listed = ", ".join(m.filename for m in members[:6]) or "none"
            raise DirectoryError(
                f"{source.name}: a zip file must hold one PS_LibreAcces_Personne_activite file "
                f"({len(wanted)} found; its files: {listed})"
            )
        with archive.open(wanted[0]) as handle:
            yield handle, wanted[0].filename.rsplit("/", 1)[-1]


def import_directory(source: str | os.PathLike, target: str | os.PathLike, progress=None, *,
                     accept_shrink: bool = False, check: Callable[[Path], None] | None = None) -> ImportReport:
    """Stream `source` into a fresh SQLite file and atomically replace `target` with it.

    Refused, `target` left as it was: a file without physicians; one with fewer than SHRINK_FLOOR of the
    physicians of the directory it would replace (DirectoryShrank), unless `accept_shrink`; one that
    `check(new file)` raises DirectoryError about (the re-check of the members, before they see it).
    """
    start = time.perf_counter()
    source, target = Path(source), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.importing")
    tmp.unlink(missing_ok=True)
    report = ImportReport()
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE; PRAGMA cache_size=-65536;
            CREATE TABLE rows (rpps TEXT, last_name TEXT, first_name TEXT, skill_type TEXT, skill_code TEXT,
                               skill_label TEXT, department TEXT);
            """
        )
        with _open_extract(source) as (handle, name):
            reader = csv.reader(_utf8_lines(handle, name), delimiter="|", quoting=csv.QUOTE_NONE)
            try:
                try:
                    header = _fields(next(reader))
                except StopIteration:
                    raise DirectoryError(f"{name}: empty file") from None
                pos = _header_map(header)
                get_rpps, get_prof = pos["rpps"], pos["profession"]
                fields = [pos[c] for c in ("rpps", "last_name", "first_name", "skill_type", "skill_code", "skill_label")]
                dept = pos.get("department")
                width = len(header)
                batch = []
                for row in reader:
                    if not row:  # a blank line (an extra line end at the end of the file)
                        continue
                    report.rows += 1
                    if len(_fields(row)) != width:  # a cut-short or damaged line: its values cannot be trusted
                        raise DirectoryError(
                            f"{name}: line {reader.line_num} has {len(_fields(row))} fields where the header has "
                            f"{width}: a damaged line, or a file cut short (an interrupted download?)"
                        )
                    if row[get_prof] != PHYSICIAN or not row[get_rpps]:
                        continue
                    batch.append((*[row[i] for i in fields], row[dept] if dept is not None else ""))
                    if len(batch) >= BATCH:
                        conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
                        report.physician_rows += len(batch)
                        batch.clear()
                        if progress:
                            progress(report.rows)
            except csv.Error as exc:
                raise DirectoryError(f"{name}: line {reader.line_num}: {exc}") from None
            if batch:
                conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
                report.physician_rows += len(batch)
        conn.executescript(
            """
            CREATE TABLE physicians (rpps TEXT PRIMARY KEY, last_name TEXT, first_name TEXT) WITHOUT ROWID;
            INSERT INTO physicians SELECT rpps, MIN(last_name), MIN(first_name) FROM rows GROUP BY rpps;
            CREATE TABLE specialties (rpps TEXT, code TEXT, label TEXT, PRIMARY KEY (rpps, code)) WITHOUT ROWID;
            INSERT OR IGNORE INTO specialties
              SELECT rpps, skill_code, skill_label FROM rows WHERE skill_type = 'S' AND skill_code != '';
            DROP TABLE rows;
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
            """
        )
        report.physicians = conn.execute("SELECT count(*) FROM physicians").fetchone()[0]
        _refuse_shrink(name, report, target, accept_shrink)
        _index_names(conn)
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("source", name), ("imported", time.strftime(ISO_Z, time.gmtime())),
             ("rows", str(report.rows)), ("physicians", str(report.physicians))],
        )
        conn.commit()
        conn.execute("VACUUM")
        conn.close()
        if check is not None:
            check(tmp)
        _fsync(tmp)  # written without a journal or syncs: on disk before it replaces the good one
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    _fsync(target.parent)
    report.seconds = time.perf_counter() - start
    return report


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _refuse_shrink(name: str, report: ImportReport, target: Path, accept_shrink: bool) -> None:
    """A file without physicians, or (unless `accept_shrink`) much smaller than the directory in place.

    The next step revokes every member whose number the new directory lacks: a download cut short at a line
    end, or another extract with the same columns, would otherwise pass for a directory.
    """
    if not report.physicians:
        raise DirectoryError(f"{name}: no physician (profession {PHYSICIAN}) in {report.rows} rows: "
                             "is it a PS_LibreAcces_Personne_activite file? Nothing was imported")
    before = previous_physicians(target)
    if before and report.physicians < before * SHRINK_FLOOR and not accept_shrink:
        raise DirectoryShrank(
            f"{name} has {report.physicians} physicians where the directory in place has {before} "
            f"({report.physicians / before:.0%}, under {SHRINK_FLOOR:.0%}): a download cut short, or another "
            "extract? Nothing was imported"
        )


def previous_physicians(target: Path) -> int | None:
    """How many physicians the directory in place has (None: none imported, or unreadable)."""
    if not target.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'physicians'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row and str(row[0]).isdigit() else None


def _index_names(conn: sqlite3.Connection) -> None:
    """Name keys of every physician, so a pseudonym can be refused when it is a physician's name.

    'f' + "first last" and "last first", 'l' + the last name alone (for "Dr Last"): letters only,
    case and accents folded (name_key), so "Dr Lefèbvre" and "LEFEBVRE" meet.
    """
    conn.create_function("name_key", 1, name_key, deterministic=True)
    conn.executescript(
        """
        CREATE TABLE names (key TEXT PRIMARY KEY) WITHOUT ROWID;
        INSERT OR IGNORE INTO names SELECT 'f' || name_key(first_name || ' ' || last_name) FROM physicians;
        INSERT OR IGNORE INTO names SELECT 'f' || name_key(last_name || ' ' || first_name) FROM physicians;
        INSERT OR IGNORE INTO names SELECT 'l' || name_key(last_name) FROM physicians;
        """
    )



class Directory:
    """Read-only lookups in the imported directory (one connection, reopened after a new import)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._inode = None

    def _connection(self) -> sqlite3.Connection | None:
        try:
            inode = self.path.stat().st_ino
        except FileNotFoundError:
            return None
        if self._conn is None or inode != self._inode:
            if self._conn is not None:
                self._conn.close()
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._inode = inode
        return self._conn

    @property
    def available(self) -> bool:
        return self._connection() is not None

    def lookup(self, number: str) -> Physician | None:
        rpps = canonical_rpps(number)
        conn = self._connection()
        if rpps is None or conn is None:
            return None
        row = conn.execute("SELECT rpps, last_name, first_name FROM physicians WHERE rpps = ?", (rpps,)).fetchone()
        if row is None:
            return None
        skills = conn.execute("SELECT code, label FROM specialties WHERE rpps = ? ORDER BY code", (rpps,)).fetchall()
        return Physician(row[0], row[1], row[2], tuple(s[1] for s in skills), tuple(s[0] for s in skills))

    def numbers(self):
        """Every physician's RPPS, in order (the re-check of verified members walks them)."""
        conn = self._connection()
        if conn is None:
            return
        yield from (row[0] for row in conn.execute("SELECT rpps FROM physicians"))

    def name_taken(self, text: str, keys: list[str] | None = None) -> bool:
        """True when the display name `text` is the name of a physician of the directory (see name_keys; `keys`:
        name_keys(text), when the caller has them)."""
        keys = name_keys(text) if keys is None else keys
        conn = self._connection()
        if not keys or conn is None:
            return False
        marks = ",".join("?" * len(keys))
        try:
            return conn.execute(f"SELECT 1 FROM names WHERE key IN ({marks}) LIMIT 1", keys).fetchone() is not None
        except sqlite3.OperationalError:  # a directory imported before the names index: scan it
            wanted = set(keys)
            for last, first in conn.execute("SELECT last_name, first_name FROM physicians"):
                if {"f" + name_key(f"{first} {last}"), "f" + name_key(f"{last} {first}"), "l" + name_key(last)} & wanted:
                    return True
            return False

    def meta(self) -> dict[str, str]:
        conn = self._connection()
        return dict(conn.execute("SELECT key, value FROM meta").fetchall()) if conn else {}

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def names_match(physician: Physician, last_name: str, first_name: str) -> bool:
    """The declared name matches the directory's, insensitive to case, accents, spaces and dashes."""
    return name_key(last_name) == name_key(physician.last_name) and name_key(first_name) == name_key(
        physician.first_name
    )
