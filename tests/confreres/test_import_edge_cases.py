"""What real exports hold beside the common case, each of which stopped or misled a move: a damaged or locked
archive, dates out of range, a NUL, one stray Latin-1 line, a very long file name, a malformed link, TypePad's
picture pages, Over-blog's unquoted resized pictures, two posts with one title."""

from __future__ import annotations

import gzip
import sqlite3
import zipfile

import pytest

from confreres import dotclear, movable_type, overblog, post_import
from confreres.export_formats import detect
from confreres.xml_input import ExportError
from tests import dotclear_kit, mt_kit, overblog_kit

MT_ENTRY = "AUTHOR: Dr X\nTITLE: {title}\nDATE: {date}\n-----\nBODY:\n{body}\n-----\n{comments}--------\n"


def mt(tmp_path, *entries: str, name: str = "export.txt"):
    path = tmp_path / name
    path.write_text("".join(entries), encoding="utf-8")
    return path


def test_a_damaged_or_locked_archive_is_said(tmp_path):
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.txt", mt_kit.export() * 20)
    data = bytearray(damaged.read_bytes())
    data[200] ^= 0xFF  # in the compressed text
    damaged.write_bytes(bytes(data))
    with pytest.raises(ExportError, match="ZIP"):
        movable_type.read_mt(damaged)
    locked = tmp_path / "locked.zip"
    with zipfile.ZipFile(locked, "w") as archive:
        archive.writestr("export.txt", mt_kit.export())
    data = bytearray(locked.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # « encrypted », as a locked archive says
        data[data.index(signature) + offset] |= 0x1
    locked.write_bytes(bytes(data))
    for read in (detect, movable_type.read_mt, dotclear.read_dotclear):
        with pytest.raises(ExportError, match="mot de passe"):
            read(locked)


def test_zipped_over_blog_and_a_compressed_isso_base(tmp_path):
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("export.xml", overblog_kit.export())
    assert detect(zipped) == "overblog" and len(overblog.read_overblog(zipped).posts) == 5
    base = tmp_path / "comments.db"
    sqlite3.connect(base).execute("CREATE TABLE t (x)").connection.commit()
    packed = tmp_path / "comments.db.gz"
    packed.write_bytes(gzip.compress(base.read_bytes()))
    with pytest.raises(ExportError, match="décompressez-la d'abord"):
        detect(packed)


def test_dates_out_of_range_and_zones_that_are_not_zones(tmp_path):
    assert dotclear.local_time("9999-12-31 23:59:59", "America/New_York") is None
    assert dotclear.local_time("0001-01-01 00:00:00", "Europe/Paris") is None
    assert str(dotclear.local_time("2010-05-12 10:00:00", "Europe")) == "2010-05-12 10:00:00", "a folder: Paris"
    assert overblog._moment("0001-01-01 00:00:00") is None
    path = mt(tmp_path, MT_ENTRY.format(title="Vieux", date="01/01/0001 00:00:00", body="Texte.",
                                        comments="COMMENT:\nAUTHOR: A\nDATE: 01/01/0001 00:00:00\nMerci.\n-----\n"))
    from comments_service.importers.movable_type import read_mt_comments

    [thread] = read_mt_comments(path).threads
    assert thread.comments[0].date_from in ("post", "import")


def test_a_nul_and_one_stray_latin1_line(tmp_path):
    path = tmp_path / "export.txt"
    text = MT_ENTRY.format(title="Été", date="06/03/2014 09:15:00 PM", body="a \x007\x00 b\nRené", comments="")
    path.write_bytes(text.replace("René", "@@").encode("utf-8").replace(b"@@", "René".encode("latin-1")))
    export = movable_type.read_mt(path)
    assert export.entries[0].title == "Été", "the file's UTF-8 lines stay UTF-8"
    assert export.repairs == {"windows_1252": 1}
    report = movable_type.import_posts(path, tmp_path / "content", download=False)
    text = (tmp_path / "content" / "2014-06-ete.md").read_text(encoding="utf-8")
    assert report.count("post", "written") == 1 and "a 7 b" in text and "René" in text


def test_long_names_malformed_links_and_typepad_picture_pages(tmp_path):
    long = post_import.local_path("photos/" + "é" * 150 + ".jpg")
    assert long.endswith(".jpg") and len(long.rsplit("/", 1)[1].encode()) <= post_import.NAME_BYTES
    popup = "https://docteur-x.typepad.com/.a/6a00d8341c4f1353ef0120a5a1b2c3970b-popup"
    body = (f'<a class="asset-img-link" href="{popup}"><img src="{mt_kit.TYPEPAD_IMAGE}" /></a> '
            '<a href="http://[www.example.com/">un lien cassé</a>')
    path = mt(tmp_path, MT_ENTRY.format(title="Photo", date="06/03/2014 09:15:00 PM", body=body, comments=""))
    report = movable_type.import_posts(path, tmp_path / "content", download=False)
    assert report.count("post", "written") == 1
    assert {u.url.rsplit("-", 1)[1] for u in report.uploads.values()} == {"pi"}, \
        "TypePad's « -popup » page is a page around the picture: its « -pi » is the picture"
    assert "un lien cassé" in (tmp_path / "content" / "2014-06-photo.md").read_text(encoding="utf-8")


def test_over_blogs_unquoted_resized_pictures_are_their_originals(tmp_path):
    resized = "https://resize.over-blog.com/300x300.jpg?https://img.over-blog-kiwi.com/1/2/{}.jpg"
    html = f"<p><img src={resized.format('ob_radio')}><img src={resized.format('ob_ecg')}></p>"
    text = overblog_kit.export().replace("<p>Installé.</p>", html)
    path = tmp_path / "export.xml"
    path.write_text(text, encoding="utf-8")
    report = overblog.import_posts(path, tmp_path / "content", download=False)
    assert {"https://img.over-blog-kiwi.com/1/2/ob_radio.jpg", "https://img.over-blog-kiwi.com/1/2/ob_ecg.jpg"} <= \
        set(report.uploads)


def test_two_posts_with_one_title_keep_their_own_comments(tmp_path):
    comment = "COMMENT:\nAUTHOR: {0}\nDATE: 01/02/{1} 10:00:00\nBonne année {1} !\n-----\n"
    path = mt(tmp_path, *(MT_ENTRY.format(title="Bonne année", date=f"01/01/{year} 09:00:00", body="Vœux.",
                                          comments=comment.format(who, year))
                          for who, year in (("Anne", 2010), ("Paul", 2011))))
    report = movable_type.import_posts(path, tmp_path / "content", download=False)
    assert sorted(p.slug for p in report.posts) == ["bonne-annee", "bonne-annee-2"]
    from comments_service.importers.movable_type import read_mt_comments

    threads = read_mt_comments(path).threads
    assert [(t.slug, t.comments[0].author) for t in threads] == [("bonne-annee", "Anne"), ("bonne-annee-2", "Paul")]

    two = dotclear_kit.export().replace("2009/01/10/Installation", "2009/01/10/Garde-de-nuit")
    backup = tmp_path / "backup.txt"
    backup.write_text(two, encoding="utf-8")
    from comments_service.importers.dotclear import read_dotclear_comments

    assert [t.slug for t in read_dotclear_comments(backup).threads] == ["garde-de-nuit", "garde-de-nuit-2"]


def test_the_comments_of_a_file_of_several_blogs_are_refused_too(tmp_path):
    from comments_service.importers.dotclear import read_dotclear_comments

    backup = tmp_path / "backup.txt"
    backup.write_text(dotclear_kit.export().replace('"5","docteury"', '"5","famille"'), encoding="utf-8")
    with pytest.raises(ExportError, match="contient 2 blogs"):
        read_dotclear_comments(backup)


def test_movable_type_comment_keys_follow_the_file_not_its_reading(tmp_path):
    from comments_service.importers.movable_type import read_mt_comments

    entry = MT_ENTRY.format(title="Garde", date="06/03/2014 09:15:00 PM", body="Texte.",
                            comments="COMMENT:\nAUTHOR: Anne\nDATE: 06/04/2014 08:00:00\nMerci.\n-----\n")
    first = read_mt_comments(mt(tmp_path, entry)).threads[0].comments[0].source_id
    later = MT_ENTRY.format(title="Plus tard", date="31/07/2015 10:00:00", body="Texte.", comments="")
    again = read_mt_comments(mt(tmp_path, entry, later, name="later.txt")).threads[0].comments[0]
    assert again.source_id == first, "a later export read day first: the same comment, the same key"


# -- the second review: WordPress and the shared writer ----------------------------------------------------------

def wordpress(tmp_path, *items: str, base: str = "https://dr-martin.example"):
    from tests.confreres.test_wordpress_posts import wxr

    path = tmp_path / "export.xml"
    path.write_text(wxr(base, *items), encoding="utf-8")
    return path


def test_text_in_brackets_and_workflow_statuses(tmp_path):
    from confreres.wordpress_posts import import_posts
    from tests.confreres.test_wordpress_posts import item

    body = "Posologie [max 3 g par jour] chez l'adulte.\n\n[NDLR : cette étude a été rétractée en 2020]"
    path = wordpress(tmp_path, item(1, "Posologie", body, slug="posologie"),
                     item(2, "En cours", "Pas fini.", slug="en-cours", status="pitch"))
    report = import_posts(path, tmp_path / "content", download=False)
    text = (tmp_path / "content" / "2015-03-posologie.md").read_text(encoding="utf-8")
    assert "\\[max 3 g par jour] chez" in text and "\\[NDLR : cette étude a été rétractée en 2020]" in text
    assert not report.shortcodes, "text in brackets is no plugin's shortcode"
    [pitched] = [p for p in report.posts if p.slug == "en-cours"]
    assert pitched.status == "draft" and pitched.why_draft == "statut « pitch »", "an extension's status: not public"


def test_a_private_posts_pictures_are_not_copied_into_the_public_folders(tmp_path):
    from confreres.wordpress_posts import import_posts
    from tests.confreres.test_wordpress_posts import item

    base = "https://dr-martin.example"
    shown = f'<img src="{base}/wp-content/uploads/2015/03/lesion.jpg"> <img src="{base}/wp-content/uploads/2015/03/cabinet.jpg">'
    path = wordpress(tmp_path, item(1, "Privé", shown, slug="prive", status="private"),
                     item(2, "Public", f'<img src="{base}/wp-content/uploads/2015/03/cabinet.jpg">', slug="public"))
    report = import_posts(path, tmp_path / "content")
    outcomes = {u.path: u.outcome for u in report.uploads.values()}
    assert outcomes["images/2015/03/lesion.jpg"] == "withheld", "content/images/ is published whole"
    assert outcomes["images/2015/03/cabinet.jpg"] != "withheld", "shown by a public post too"


def test_another_wordpress_com_blogs_pictures_are_not_the_doctors(tmp_path):
    from confreres.wordpress_posts import import_posts
    from tests.confreres.test_wordpress_posts import item

    base = "https://drmartin.wordpress.com"
    body = ('<img src="https://autreblog.files.wordpress.com/2015/03/photo.jpg">'
            '<img src="https://drmartin.files.wordpress.com/2015/03/radio.jpg">')
    report = import_posts(wordpress(tmp_path, item(1, "Photos", body, slug="photos", base=base), base=base),
                          tmp_path / "content", download=False)
    assert set(report.uploads) == {"https://drmartin.files.wordpress.com/2015/03/radio.jpg"}


def test_markdown_reads_as_the_html_did(tmp_path):
    import markdown

    from confreres.wordpress_posts import import_posts
    from tests.confreres.test_wordpress_posts import item

    body = ("<p>Température :<br>&gt; 38,5 °C : consultez</p><p>Sources :<br>[1]: https://www.has-sante.fr/</p>"
            "<p>Conclusion<br>=====</p><p>+ 5 € de dépassement</p><p>```<br>~~~</p>"
            "<p>Plaquettes 150.10<sup>9</sup>/L, H<sub>2</sub>O, <del>fermé le lundi</del>, 1 + 1 = 2</p>"
            "<ul><li>Un<li>Deux<li>Trois</ul>"  # valid HTML: a list item's end tag may be left out
            '<h2 id="traitement">Traitement</h2><p><a href="#traitement">plus bas</a></p>')
    deep = "<p>Avant.</p><p>" + "<span>" * 600 + "profond</p>"  # hundreds of unclosed tags, nested
    import_posts(wordpress(tmp_path, item(1, "Texte", body, slug="texte"), item(2, "Profond", deep, slug="profond")),
                 tmp_path / "content", download=False)
    text = (tmp_path / "content" / "2015-03-texte.md").read_text(encoding="utf-8").partition("\n\n")[2]
    html = markdown.markdown(text)
    for shown in ("&gt; 38,5 °C", "[1]: https://www.has-sante.fr/", "+ 5 € de dépassement", "<sup>9</sup>",
                  "<sub>2</sub>", "<del>fermé le lundi</del>", "1 + 1 = 2"):
        assert shown in html, shown
    for markup in ("<blockquote", "<h1", "<pre", "<code"):
        assert markup not in html, markup
    assert html.count("<li>") == 3, "three items, as a browser shows them"
    assert '<h2 id="traitement">Traitement</h2>' in markdown.markdown(text, extensions=["extra"]), \
        "a heading keeps its anchor (Pelican's Markdown has attr_list)"
    assert "profond" in (tmp_path / "content" / "2015-03-profond.md").read_text(encoding="utf-8")


def test_one_bad_redirection_fails_one_file_not_the_import(tmp_path, monkeypatch):
    from confreres.safe_http import ALLOW_ENV
    from confreres.wordpress_posts import import_posts
    from tests.confreres.test_wordpress_posts import PNG, item
    from tests.loopback import LoopbackServer

    with LoopbackServer() as server:
        monkeypatch.setenv(ALLOW_ENV, server.url("/").split("//", 1)[1].rstrip("/"))
        base = server.url("/").rstrip("/")
        server.route("/wp-content/uploads/2015/03/a.png", status=301, headers={"Location": "http://[oops/a.png"})
        server.route("/wp-content/uploads/2015/03/b.png", body=PNG, content_type="image/png")
        body = f'<img src="{base}/wp-content/uploads/2015/03/a.png"><img src="{base}/wp-content/uploads/2015/03/b.png">'
        report = import_posts(wordpress(tmp_path, item(1, "Images", body, slug="images", base=base), base=base),
                              tmp_path / "content")
    outcomes = {u.path: u.outcome for u in report.uploads.values()}
    assert outcomes == {"images/2015/03/a.png": "failed", "images/2015/03/b.png": "downloaded"}
    assert report.count("post", "written") == 1
