"""A Dotclear flat export written for the tests as Dotclear's FlatExport writes one (« Exporter le blog »): its
tables by column names, values escaped the same way (backslash, quote, line feed, carriage return)."""

from __future__ import annotations

BLOG = "https://docteur-y.example/"
POST_COLUMNS = ("post_id,blog_id,user_id,cat_id,post_dt,post_tz,post_creadt,post_upddt,post_password,post_type,"
                "post_format,post_url,post_lang,post_title,post_excerpt,post_excerpt_xhtml,post_content,"
                "post_content_xhtml,post_notes,post_meta,post_words,post_status,post_firstpub,post_selected,"
                "post_position,post_open_comment,post_open_tb,nb_comment,nb_trackback").split(",")
COMMENT_COLUMNS = ("comment_id,post_id,comment_dt,comment_tz,comment_upddt,comment_author,comment_email,comment_site,"
                   "comment_content,comment_words,comment_ip,comment_status,comment_spam_status,comment_spam_filter,"
                   "comment_trackback").split(",")


def escape(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace('"', '\\"') + '"'


def table(name: str, columns: list[str], rows: list[dict]) -> str:
    lines = [f"[{name} {','.join(columns)}]"]
    lines += [",".join(escape(str(row.get(c, ""))) for c in columns) for row in rows]
    return "\n" + "\n".join(lines) + "\n"


def post(post_id: int, title: str, url: str, content: str, *, excerpt: str = "", status: str = "1",
         dt: str = "2010-05-12 22:30:00", tz: str = "Europe/Paris", cat: str = "1", kind: str = "post",
         password: str = "") -> dict:
    return {"post_id": post_id, "blog_id": "docteury", "user_id": "admin", "cat_id": cat, "post_dt": dt,
            "post_tz": tz, "post_creadt": dt, "post_upddt": dt, "post_password": password, "post_type": kind,
            "post_format": "wiki", "post_url": url, "post_lang": "fr", "post_title": title,
            "post_excerpt": "(wiki)", "post_excerpt_xhtml": excerpt, "post_content": "(wiki)",
            "post_content_xhtml": content, "post_meta": 'a:1:{s:3:"tag";a:1:{i:0;s:5:"garde";}}',
            "post_status": status, "post_open_comment": "1"}


def comment(comment_id: int, post_id: int, author: str, text: str, *, status: str = "1", trackback: str = "0",
            dt: str = "2010-05-13 08:00:00") -> dict:
    return {"comment_id": comment_id, "post_id": post_id, "comment_dt": dt, "comment_tz": "Europe/Paris",
            "comment_upddt": dt, "comment_author": author, "comment_email": f"{author.split()[0].lower()}@example.org",
            "comment_site": "", "comment_content": text, "comment_ip": "192.0.2.20", "comment_status": status,
            "comment_spam_status": "0", "comment_trackback": trackback}


def export(prefix: str = BLOG) -> str:
    """A doctor's Dotclear blog: posts with a chapô, a tag, a quote and a « "," » in their text, an offline one,
    a page, a post with a password; comments, one pending, one spam, a trackback."""
    garde = (f'<p>Première ligne<br />\nseconde, « entre guillemets » et "ceux-ci","ceux-là" ; un \\ seul.</p>\n'
             f'<p><img src="/public/radio%20thorax.jpg" alt="Radio" /></p>\n'
             f'<p>Voir <a href="{prefix}post/2009/01/10/Installation">mon installation</a>.</p>')
    return ("///DOTCLEAR|2.27|single\n"
            + table("category", ["cat_id", "blog_id", "cat_title", "cat_url", "cat_desc", "cat_position", "cat_lft",
                                 "cat_rgt"],
                    [{"cat_id": "1", "blog_id": "docteury", "cat_title": "Pratique", "cat_url": "Pratique"}])
            + table("setting", ["setting_id", "blog_id", "setting_ns", "setting_value", "setting_type"],
                    [{"setting_id": "public_url", "blog_id": "docteury", "setting_ns": "system",
                      "setting_value": "/public", "setting_type": "string"}])
            + table("post", POST_COLUMNS, [
                post(1, "Garde de nuit", "2010/05/12/Garde-de-nuit", garde, excerpt="<p>Une nuit de garde.</p>"),
                post(2, "Installation", "2009/01/10/Installation", "<p>Installé.</p>", dt="2009-01-10 09:00:00"),
                post(3, "Pas fini", "2010/06/01/Pas-fini", "<p>Brouillon.</p>", status="0"),
                post(4, "À propos", "a-propos", "<p>Médecin généraliste.</p>", kind="page", cat=""),
                post(5, "Réservé", "2010/07/01/Reserve", "<p>Secret.</p>", password="motdepasse"),
            ])
            + table("meta", ["meta_id", "meta_type", "post_id"],
                    [{"meta_id": "garde", "meta_type": "tag", "post_id": "1"},
                     {"meta_id": "nuit", "meta_type": "tag", "post_id": "1"}])
            + table("comment", COMMENT_COLUMNS, [
                comment(11, 1, "Mme L.", "<p>Merci docteur !</p>"),
                comment(12, 1, "Paul", "<p>Je ne suis pas d'accord.</p>", status="-1", dt="2010-05-13 09:00:00"),
                comment(13, 1, "Casino", "<p>Gagnez !</p>", status="-2"),
                comment(14, 1, "Autre blog", "<p>Cité ici.</p>", trackback="1"),
                comment(15, 2, "Anne", "<p>Bienvenue !</p>", dt="2009-01-11 10:00:00"),
            ]))
