"""What a guest types as their name stays one plain line, and is never a member's or a physician's name.

Line breaks in a guest's name once reached the blogger's moderation mail as lines of their own (a fake
« Approuver : http://evil… »); a guest could sign « Dr Claire Lefebvre ». The mails are those received
by a real SMTP server; the directory is a real extract imported by rpps.import_directory.
"""

from __future__ import annotations

import re

import pytest

from comments_service.domain import validate
from tests.comments_service.mail.test_notices import anne, app  # noqa: F401  (fixtures: a real SMTP server)
from tests.comments_service.verification_kit import CLAIRE, KARIM, OTHER, PEOPLE, Kit, import_people

GUEST = "lecteur@exemple.fr"
INJECTED = "Paul\r\n\r\n  Approuver : http://evil.test/approve\r\n\u2028Rejeter : http://evil.test/reject\n"


def assert_no_injected_line(mail):
    lines = mail.text.splitlines()
    assert not [line for line in lines if line.strip().startswith(("Approuver : http://evil", "Rejeter : http://evil"))]
    (named,) = [line for line in lines if "evil.test" in line]
    assert named.startswith("Paul Approuver : http://evil.test/approve Rejeter") and "a commenté" in named
    approve = [line for line in lines if line.strip().startswith("Approuver :")]
    assert len(approve) == 1 and "/moderation/act?token=" in approve[0]


def test_a_guest_name_cannot_write_lines_into_the_moderation_mail(actions, anne, smtp, urls):  # noqa: F811
    body = actions.comment("Une question.", url=urls.POST_A, author=INJECTED, email=GUEST)
    assert body["status"] == "pending"
    assert body["comment"]["author"]["name"] == "Paul Approuver : http://evil.test/approve Rejeter : http://evil.test/reject"
    assert_no_injected_line(smtp.mailbox.expect(to="anne@dr-a.test"))


def test_the_no_js_form_strips_them_too(actions, anne, smtp, urls, client):  # noqa: F811
    page = client.get("/thread", query_string={"url": urls.POST_A})
    assert actions.submit(page, "/thread", text="Depuis le formulaire", author=INJECTED).status_code == 303
    assert_no_injected_line(smtp.mailbox.expect(to="anne@dr-a.test"))


def test_one_line_fields_lose_controls_and_bidi_overrides(app, actions, client, urls, api_error):  # noqa: F811
    body = actions.comment("Texte.", url=urls.POST_A2, author="Mal\u202eicieux\u200b\t\x00 Nom\u2066", email=GUEST)
    assert body["comment"]["author"]["name"] == "Malicieux Nom"
    broken = actions.post("Texte 2.", url=urls.POST_A2, author="Paul", website="http://site.test/\nApprouver : x")
    api_error(broken, 400, "invalid_url", "website")
    assert validate.report({"reason": "Spam\r\nApprouver :\u202e x"}) == "Spam Approuver : x"
    # lone surrogates (valid JSON escapes) never reach the database
    assert validate.one_line("Jean\ud800 Dupont") == "Jean Dupont"
    # a member's display name and a pseudonym declared for verification follow the same rule
    member = Kit(app, client).member()
    saved = client.patch("/api/account", json={"display_name": "Zèbre\nApprouver : http://evil.test"},
                         headers=member.headers)
    assert saved.status_code == 200
    assert actions.sql("SELECT display_name FROM accounts WHERE id = ?", (member.id,))[0]["display_name"] == (
        "Zèbre Approuver : http://evil.test"
    )


@pytest.fixture
def members(app, client, tmp_path):  # noqa: F811
    import_people(app, tmp_path)
    kit = Kit(app, client)
    kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre", role="author", sites=("dr-a",))
    kit.member(display_name="Zèbre Savant")
    return kit


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Dr Claire Lefebvre", "name_of_a_member"),
        ("docteur  claire LEFÈBVRE", "name_of_a_member"),
        ("Claire Lefebvre", "name_of_a_member"),
        ("zebre savant", "name_of_a_member"),
        ("Dr. Zèbre Savant", "name_of_a_member"),
        ("Dr Karim Benali", "name_of_a_physician"),  # in the directory, not a member
        ("Docteur Rousseau", "name_of_a_physician"),
    ],
)
def test_a_guest_cannot_sign_as_a_member_or_a_physician(members, actions, urls, api_error, name, code):
    refused = actions.post("Je suis médecin.", url=urls.POST_B, author=name, email=GUEST)
    error = api_error(refused, 400, code, "author")
    assert re.search(r"(membre du réseau|médecin inscrit)", error["message"])
    assert actions.sql("SELECT COUNT(*) AS n FROM comments")[0]["n"] == 0


def test_the_no_js_form_refuses_it_and_shows_what_was_typed(members, actions, client, urls):
    page = client.get("/thread", query_string={"url": urls.POST_B})
    refused = actions.submit(page, "/thread", text="Mon avis de médecin.", author="Dr Claire Lefebvre")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "membre du réseau" in html
    assert 'value="Dr Claire Lefebvre"' in html and "Mon avis de médecin." in html
    assert actions.sql("SELECT COUNT(*) AS n FROM comments")[0]["n"] == 0


def test_ordinary_names_and_members_signing_as_themselves_pass(members, actions, urls):
    assert actions.post("Merci.", url=urls.POST_B, author="Claire", email=GUEST).status_code == 201
    assert actions.post("Merci !", url=urls.POST_B, author="Benali").status_code == 201  # untitled surname


@pytest.fixture
def namesakes(app, client, tmp_path):  # noqa: F811
    """Claire and Karim are members under their titled names; no Martin in the directory."""
    import_people(app, tmp_path, people=[p for p in PEOPLE if p[0] != OTHER])
    kit = Kit(app, client)
    kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre", role="author", sites=("dr-a",))
    kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    kit.member(display_name="Zèbre Savant")
    return kit


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("Lefebvre Claire", True),  # the words in another order
        ("Benali Karim", True),
        ("LEFEBVRE, Claire", True),
        ("Dr. K. Benali", True),  # an initial for the first name
        ("K. Benali", True),
        ("Dr C Lefebvre", True),
        ("Dr K\u0430rim Benali", True),  # Cyrillic а
        ("\u041a\u0430rim B\u0435n\u0430li", True),  # Cyrillic К, а, е
        ("Dr \u039aarim Benali", True),  # Greek Kappa
        ("Savant Zèbre", True),
        ("CIaire Lefebvre", True),  # a capital i for the l
        ("C1aire Lefebvre", True),
        ("Claire \u029fefebvre", True),  # Latin small capital L
        ("Claire Lefe\u044cvre", True),  # Cyrillic soft sign for the b
        ("\ua4dalaire Lefebvre", True),  # Lisu letter
        ("\u13dflaire Lefebvre", True),  # Cherokee letter
        ("Dr Karim Ben\u0430li Claire", True),  # mixed scripts, whoever it names
        ("Claire", False),
        ("Dr Martin", False),
        ("Karima Benaissa", False),
        ("Karim", False),
        ("Benali", False),
        ("Claire L.", False),  # an initial for the surname: how ordinary guests sign
        ("Claire Martin", False),
        ("K. B.", False),  # initials only name nobody
        ("Lefebvre Claire-Marie", False),
        ("Zèbre", False),
        ("Jean-Pierre O'Neil", False),
    ],
)
def test_reversed_initialled_or_look_alike_member_names_are_refused(namesakes, actions, urls, api_error, name, refused):
    response = actions.post("Mon avis.", url=urls.POST_B, author=name, email=GUEST)
    if refused:
        api_error(response, 400, None, "author")
    else:
        assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["Dr. K. Benali", "Dr K\u0430rim Benali", "Docteur Benali Karim", "Pr C. Lefebvre"])
def test_account_display_names_follow_the_same_rule(namesakes, client, name):
    member = namesakes.member()
    saved = client.patch("/api/account", json={"display_name": name}, headers=member.headers)
    assert saved.status_code == 400 and saved.get_json()["error"]["code"] == "name_of_a_physician", saved.get_json()


# -- an account's display name: what a guest may not sign with, a new account may not take either --------------


@pytest.mark.parametrize("name", ["Zèbre Savant", "zebre  SAVANT", "Savant Zèbre", "Z\u0435bre Savant",
                                  "Savant, Zèbre", "C. Lefebvre", "\u13dflaire Martin"])
def test_a_new_account_cannot_take_a_members_name(namesakes, actions, client, urls, name):
    """A guest may not sign « Zèbre Savant » (a member's pseudonym, in no directory): opening an account, which only
    takes an e-mail address, and naming it so did the same, and its comments showed the name under a profile link."""
    impostor = namesakes.member()
    refused = client.patch("/api/account", json={"display_name": name}, headers=impostor.headers)
    assert refused.status_code == 400, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] in ("name_of_a_member", "mixed_scripts") and error["field"] == "display_name"
    assert actions.sql("SELECT display_name FROM accounts WHERE id = ?", (impostor.id,))[0]["display_name"] == ""


def test_the_account_page_refuses_it_and_shows_what_was_typed(namesakes, actions, client, smtp):
    impostor = namesakes.member()
    assert actions.sign_in(impostor.email).status_code == 303  # the account page's cookie session
    page = client.get("/account")
    refused = actions.submit(page, "/account", display_name="Savant Zèbre", notify_comments="never")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "autre membre du réseau" in html and 'value="Savant Zèbre"' in html
    assert actions.sql("SELECT display_name FROM accounts WHERE id = ?", (impostor.id,))[0]["display_name"] == ""


def test_own_and_kept_names_pass(namesakes, client):
    twin = namesakes.member(display_name="Zèbre Savant")  # two members named alike before the rule: both keep it
    for changes in ({"display_name": "Zèbre Savant", "notify_replies": True}, {"display_name": "Grand Zèbre"},
                    {"display_name": "Grand  zèbre"}, {"display_name": "Claire L."}):
        saved = client.patch("/api/account", json=changes, headers=twin.headers)
        assert saved.status_code == 200, (changes, saved.get_json())
    back = client.patch("/api/account", json={"display_name": "Zèbre Savant"}, headers=twin.headers)
    assert back.status_code == 400  # given up: now only the other member's
