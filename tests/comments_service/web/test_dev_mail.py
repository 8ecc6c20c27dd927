"""The demo's mailbox (/dev/mail): its dates, labels and counts in French, like every other page."""

from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from comments_service.mail import transport


@pytest.fixture
def demo(make_app, tmp_path):
    app = make_app(DEV_PAGES=True, MAIL_DIR=str(tmp_path / "mail"))

    def mail(name, subject, when):
        message = transport.build(sender="Confrères <ne-pas-repondre@blogs.test>", to="anne@exemple.fr",
                                  subject=subject, text="Bonjour", now=when)
        transport.send(app.config, recipient="anne@exemple.fr", message=message, name=name)

    return app, mail


def test_the_mailbox_dates_and_counts_are_french(demo):
    app, mail = demo
    mail("m1", "Hiver", datetime(2025, 1, 31, 23, 30, tzinfo=UTC))  # Paris is an hour ahead: the next day
    mail("m2", "Été", datetime(2025, 7, 14, 6, 5, tzinfo=UTC))  # two hours in summer
    page = BeautifulSoup(app.test_client().get("/dev/mail").get_data(as_text=True), "html.parser")
    text = page.get_text(" ")
    assert "1er février 2025 à 0 h 30" in text and "14 juillet 2025 à 8 h 05" in text
    assert "2 e-mails" in text
    assert "Jan" not in text and "Jul" not in text and "+0000" not in text


def test_one_mail_shows_french_labels_and_date(demo):
    app, mail = demo
    mail("m1", "Bienvenue", datetime(2025, 3, 1, 7, 0, tzinfo=UTC))
    page = BeautifulSoup(app.test_client().get("/dev/mail/m1").get_data(as_text=True), "html.parser")
    shown = dict(zip((dt.text for dt in page.find_all("dt")), (dd.text for dd in page.find_all("dd")), strict=True))
    assert shown == {"De": "Confrères <ne-pas-repondre@blogs.test>", "À": "anne@exemple.fr", "Objet": "Bienvenue",
                     "Date": "1er mars 2025 à 8 h 00"}


def test_a_long_mailbox_says_how_many_it_leaves_out(demo):
    app, mail = demo
    for number in range(201):
        mail(f"m{number:03d}", f"Mail {number}", datetime(2025, 3, 1, 7, 0, tzinfo=UTC))
    page = BeautifulSoup(app.test_client().get("/dev/mail").get_data(as_text=True), "html.parser")
    assert "201 e-mails, les 200 plus récents ci-dessous" in page.get_text(" ")
    assert len(page.select("ol.mails li")) == 200


def test_one_mail_is_counted_in_the_singular(demo):
    app, mail = demo
    mail("m1", "Seul", datetime(2025, 3, 1, 7, 0, tzinfo=UTC))
    assert "1 e-mail</p>" in app.test_client().get("/dev/mail").get_data(as_text=True)
