"""The guests' check against members' names reads an index, not every member, and decides exactly as the full scan did.

check_author_name once normalised every member's display name on every guest comment. Accounts now store
confreres.names.name_index of their name (name_key, name_words, name_sig, kept by accounts.set_display_name and
filled for older accounts by the migration m027_member_name_index), and the check compares only the members the
indexes find. The property test below keeps the old full scan as the reference: for generated member names and
typed names (initials, reversed order, accents, case, look-alike letters of other scripts, titles), both decide
the same. Real SQLite databases throughout; nothing of ours is mocked.
"""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comments_service.core import db as dbmod
from comments_service.core.errors import ApiError
from comments_service.core.migrations import migrate, migrations
from comments_service.domain import accounts, verification
from comments_service.domain.comments import query
from confreres.names import name_forms, name_index, same_words
from tests.comments_service.verification_kit import Kit

GUEST = "lecteur@exemple.fr"


def full_scan_refuses(db, name: str, own_id: int | None) -> bool:
    """The decision as check_author_name took it before the index: every member's name, compared one by one."""
    name = (name or "").strip()
    if not name:
        return False
    wanted, tokens = name_forms(name)
    for row in query(db, "SELECT id, display_name FROM accounts WHERE display_name != ''") if wanted else ():
        key, theirs = name_forms(row["display_name"])
        if row["id"] != own_id and (key == wanted or same_words(tokens, theirs)):
            return True
    return False


def indexed_refuses(app, db, name: str, account: dict | None) -> bool:
    try:
        verification.check_author_name(app, db, name, account)
    except ApiError as error:
        return error.code == "name_of_a_member"
    return False


# -- generated names ----------------------------------------------------------------------------------------

WORDS = ["Claire", "Karim", "Jean-Pierre", "Élodie", "Zèbre", "Marie", "Anne", "Lefebvre", "Benali", "O'Neil",
         "Martin", "Lefèvre", "Savant", "Li", "Kim", "Léa", "Cohen", "Colas", "Bé"]
TITLES = ["", "", "", "Dr ", "Dr. ", "Docteur ", "Pr ", "dr "]
LOOK_ALIKES = {  # Latin letter -> what a reader takes for it (Cyrillic, Greek, digits, small capitals)
    "a": ["\u0430", "\u03b1"], "e": ["\u0435"], "o": ["\u043e", "0"], "K": ["\u041a", "\u039a"], "l": ["I", "1", "\u029f"],
    "b": ["\u044c"], "C": ["\u0421"], "c": ["\u0441"], "i": ["\u0456", "l"], "M": ["\u041c"], "p": ["\u0440"],
}
ACCENTS = {"e": "é", "é": "e", "è": "e", "a": "à", "E": "É", "É": "E", "c": "ç"}


@st.composite
def written(draw, words: list[str]) -> str:
    """`words` as someone may type them: some as initials, in any order, any case, accents and letters swapped."""
    shown = []
    for word in draw(st.permutations(words)):
        if draw(st.integers(0, 4)) == 0:
            word = word[0] + draw(st.sampled_from(["", ".", ". "]))
        chars = []
        for char in word:
            roll = draw(st.integers(0, 9))
            if roll == 0 and char in LOOK_ALIKES:
                char = draw(st.sampled_from(LOOK_ALIKES[char]))
            elif roll == 1 and char in ACCENTS:
                char = ACCENTS[char]
            chars.append(char)
        word = "".join(chars)
        word = draw(st.sampled_from([word, word, word.upper(), word.lower(), word.title()]))
        shown.append(word)
    separator = draw(st.sampled_from([" ", " ", "  ", ", ", "-"]))
    return draw(st.sampled_from(TITLES)) + separator.join(shown)


bases = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)
odd_names = st.text(alphabet="aeKlCIé1.- '\u0430\u0435", max_size=12)


@st.composite
def network_and_guests(draw):
    """Member names, and names typed by guests: mostly a member's words written another way, else other words."""
    words = [draw(bases) for _ in range(draw(st.integers(1, 4)))]
    members = [draw(written(base)) for base in words]
    typed = [draw(odd_names) if draw(st.integers(0, 4)) == 0 else draw(written(draw(st.sampled_from(words) | bases)))
             for _ in range(draw(st.integers(1, 5)))]
    return members, typed


@pytest.fixture
def db(app):
    handle = dbmod.connect(app.config["DB"])
    yield handle
    handle.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=network_and_guests(), data=st.data())
def test_the_indexed_check_decides_as_the_full_scan(app, db, case, data):
    members, typed = case
    ids = []
    for name in members:  # the real write paths: a new account's name, and a rename
        email = f"m{data.draw(st.integers(0, 10**9))}@x.test"
        if data.draw(st.booleans()):
            row, _ = accounts.ensure_account(db, email, display_name=name)
        else:
            row, _ = accounts.ensure_account(db, email, display_name="Provisoire Nom")
            accounts.set_display_name(db, row["id"], name)
        ids.append(row["id"])
    for name in typed:
        own = data.draw(st.sampled_from([None, *ids]))
        account = None if own is None else {"id": own, "display_name": ""}  # a member without a name types one
        assert indexed_refuses(app, db, name, account) == full_scan_refuses(db, name, own), (name, members)


@pytest.mark.parametrize(
    ("member", "typed", "refused"),
    [
        ("Dr Claire Lefebvre", "C. Lefebvre", True),
        ("Dr Claire Lefebvre", "Lefebvre C", True),
        ("C. Lefebvre", "Claire Lefebvre", True),  # the member's initial stands for the typed word
        ("C. Lefebvre", "Lefebvre Colette", True),
        ("Claire Lefebvre", "Claire L.", False),
        ("Zèbre", "zebre", True),
        ("Zèbre", "Z", False),
        ("Jean-Pierre O'Neil", "Jeanpierre O'Neil", True),  # the full-name key
        ("Jean-Pierre O'Neil", "O'Neil J. P.", True),
        ("Anne Marie Benali Kim Cohen Li Colas", "Colas Li Cohen Kim Benali Marie Anne", True),  # beyond the word forms
        ("A. Marie Benali Kim Cohen Li Colas", "Colas Li Cohen Kim Benali Marie Anne", True),
        ("Anne Marie Benali Kim Cohen Li Colas", "Colas Li Cohen Kim Benali Marie Annie", False),
    ],
)
def test_examples_of_words_initials_and_keys(app, db, member, typed, refused):
    accounts.ensure_account(db, "m@x.test", display_name=member)
    assert indexed_refuses(app, db, typed, None) is refused
    assert full_scan_refuses(db, typed, None) is refused


def test_the_check_reads_the_indexes_not_every_member(app, db):
    for n in range(30):
        accounts.ensure_account(db, f"m{n}@x.test", display_name=f"Prénom{n} Nom{n}")
    statements = []
    db.conn.set_trace_callback(statements.append)
    for typed in ("Nom7 Prénom7", "P. Nom7", "Zèbre"):
        statements.clear()
        with pytest.raises(ApiError) if "7" in typed else contextlib.nullcontext():
            verification.check_author_name(app, db, typed, None)
        (select,) = [s for s in statements if "FROM accounts WHERE display_name != ''" in s]
        plan = [row[3] for row in db.conn.execute("EXPLAIN QUERY PLAN " + select)]
        assert all("USING INDEX accounts_name_" in step for step in plan if "accounts" in step), plan
    db.conn.set_trace_callback(None)


def test_a_rename_moves_the_protection_to_the_new_name(app, client, actions, urls, api_error):
    kit = Kit(app, client)
    member = kit.member(display_name="Hélène Marchand")
    refused = actions.post("Avis.", url=urls.POST_B, author="Marchand Hélène", email=GUEST)
    api_error(refused, 400, "name_of_a_member", "author")

    saved = client.patch("/api/account", json={"display_name": "Bruno Vidal"}, headers=member.headers)
    assert saved.status_code == 200, saved.get_json()
    (row,) = actions.sql("SELECT name_key, name_words, name_sig FROM accounts WHERE id = ?", (member.id,))
    assert tuple(row) == name_index("Bruno Vidal") == ("fbrunovidai", "bruno vidai", "2:bv")  # l reads as i
    assert actions.post("Avis.", url=urls.POST_B, author="Hélène Marchand", email=GUEST).status_code == 201
    api_error(actions.post("Avis.", url=urls.POST_B, author="Vidal B.", email=GUEST), 400, "name_of_a_member", "author")

    assert client.patch("/api/account", json={"display_name": None}, headers=member.headers).status_code == 200
    assert actions.post("Avis !", url=urls.POST_B, author="Bruno Vidal", email=GUEST).status_code == 201


def test_the_migration_indexes_the_members_of_an_older_database(app, tmp_path):
    db = dbmod.connect(str(tmp_path / "old.sqlite3"))
    migrations.apply(db, stop_before="m027_member_name_index")
    stamp = "2026-01-01T00:00:00Z"
    named = ["Dr Claire Lefebvre", "Zèbre Savant", "K. Benali", "???"]
    db.conn.executemany(
        "INSERT INTO accounts (id, email, display_name, created) VALUES (?, ?, ?, ?)",
        [(n + 1, f"m{n}@x.test", name, stamp) for n, name in enumerate([*named, ""])],
    )
    db.conn.commit()
    assert migrate(db)[0] == "m027_member_name_index", "the migrations after it run too"
    stored = {r["display_name"]: (r["name_key"], r["name_words"], r["name_sig"]) for r in
              query(db, "SELECT display_name, name_key, name_words, name_sig FROM accounts")}
    assert stored == {**{name: name_index(name) for name in named}, "": ("", "", "")}
    assert stored["K. Benali"] == ("fkbenaii", "benaii k", "2:bk")
    indexes = {r["name"] for r in query(db, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"accounts_name_key", "accounts_name_words", "accounts_name_sig"} <= indexes
    for typed, refused in [("Lefebvre Claire", True), ("Savant Zebre", True), ("Karim Benali", True), ("Claire", False),
                           ("K. B.", False)]:
        assert indexed_refuses(app, db, typed, None) is refused, typed
        assert full_scan_refuses(db, typed, None) is refused, typed
    db.close()


def test_a_database_without_the_migration_is_not_half_indexed(tmp_path):
    """All pending migrations run in one transaction: a failure in m027's backfill leaves no column behind."""
    db = dbmod.connect(str(tmp_path / "old.sqlite3"))
    migrations.apply(db, stop_before="m027_member_name_index")
    db.conn.execute("INSERT INTO accounts (id, email, display_name, created) VALUES (1, 'a@x.test', 'Anne', 'x')")
    db.conn.commit()
    db.conn.execute("CREATE INDEX accounts_name_sig ON accounts (email)")  # the migration's last index cannot be made
    db.conn.commit()
    with pytest.raises(sqlite3.OperationalError):
        migrate(db)
    columns = {r["name"] for r in query(db, "PRAGMA table_info(accounts)")}
    assert not {"name_key", "name_words", "name_sig"} & columns
    db.close()


NORMALISATION_DIGEST = "55460238831f616e4fd198d864a6bace01c7d54c38eae410e424c8de369d1938"


def test_the_normalisation_the_stored_columns_were_made_with_is_unchanged():
    """accounts.name_key/name_words/name_sig are stored (m027): a change to the normalisation leaves them stale, and
    guests' names compared against old values. Whoever changes it adds a migration that fills them again
    (names.name_index), then updates this digest."""
    import hashlib
    import json

    from confreres import names

    sample = ["Dr Claire Lefebvre", "Lefebvre Claire", "C. Lefebvre", "Kаrim Bеnаli", "ʟefebvre", "CIaire 1efebvre",
              "Docteure Éléonore Quintard-Valmore", "Pr K. Benali", "Zoë d’Artagnan", "Ꮯlaire"]
    state = [sorted(names.CONFUSABLES.items()), sorted(names.LOOKALIKES.items()), names.TITLE_RE.pattern,
             [names.name_index(n) for n in sample]]
    digest = hashlib.sha256(json.dumps(state, ensure_ascii=False).encode()).hexdigest()
    assert digest == NORMALISATION_DIGEST, "names' normalisation changed: add a migration refilling the name columns"
