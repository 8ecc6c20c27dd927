"""Helpers for the verification tests: a small RPPS extract in the real format, members with sessions.

Members sign in the way the widget does (a bearer session of accounts.py); the directory is a real
`PS_LibreAcces_Personne_activite` file imported by rpps.import_directory; nothing of ours is mocked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from comments_service.core.db import connect
from comments_service.domain import accounts
from comments_service.domain import verification as verify
from tests.comments_service.directory_kit import (  # noqa: F401  (re-exported for the tests)
    CANDIDATE,
    CLAIRE,
    HELENE,
    KARIM,
    NURSE,
    OTHER,
    PEOPLE,
    import_people,
    luhn_complete,
    write_extract,
)


@dataclass
class Member:
    id: int
    email: str
    token: str
    headers: dict = field(default_factory=dict)


@dataclass
class Kit:
    app: object
    client: object
    _n: int = 0

    def db(self):
        return connect(self.app.config["DB"])

    def member(self, email: str | None = None, display_name: str = "", role: str = "member", sites=()) -> Member:
        self._n += 1
        email = email or f"membre{self._n}@exemple.test"
        db = self.db()
        try:
            row, _ = accounts.ensure_account(db, email, role=role, display_name=display_name, sites=sites)
            token, _ = accounts.create_session(db, row["id"], "bearer", 30)
        finally:
            db.close()
        return Member(row["id"], email, token, {"Authorization": f"Bearer {token}"})

    def grant(self, member: Member, rpps: str, last: str, first: str, **kwargs):
        db = self.db()
        try:
            with self.app.app_context():
                return verify.grant(self.app, db, member.id, rpps, last, first, **kwargs)
        finally:
            db.close()

    def verified(self, rpps: str, last: str, first: str, display_name: str, show_specialty: bool = True,
                 **kwargs) -> Member:
        """A founding member; like the demo's founders, they chose to show their specialty (it is opt-in)."""
        member = self.member(display_name=display_name, **kwargs)
        self.grant(member, rpps, last, first, reason="membre fondateur (test)")
        if show_specialty:
            self.show_specialty(member)
        return member

    def show_specialty(self, member: Member, shown: bool = True):
        """The member ticks (or unticks) « Afficher ma spécialité » on their account."""
        response = self.client.patch("/api/account", json={"show_specialty": shown}, headers=member.headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    def declare(self, member: Member, rpps, last, first, display_name=None):
        body = {"rpps": rpps, "last_name": last, "first_name": first}
        if display_name is not None:
            body["display_name"] = display_name
        return self.client.post("/api/verification", json=body, headers=member.headers)

    def vouch_token(self, member: Member) -> str:
        """The token of the member's vouching link (the one their verification page shows while declared)."""
        db = self.db()
        try:
            return verify.vouch_link(db, member.id)
        finally:
            db.close()

    def vouch(self, voucher: Member, candidate: Member, last_name: str):
        return self.client.post(
            f"/api/verification/vouch/{self.vouch_token(candidate)}", json={"last_name": last_name},
            headers=voucher.headers,
        )

    def status(self, member: Member) -> dict:
        response = self.client.get("/api/verification", headers=member.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def sql(self, sql, params=()):
        db = self.db()
        try:
            cursor = db.conn.execute(sql, params)
            names = [c[0] for c in cursor.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            db.conn.commit()
            return rows
        finally:
            db.close()
