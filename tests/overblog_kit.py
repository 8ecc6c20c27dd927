"""An Over-blog export written for the tests as Over-blog writes one (the structure the tools moving these blogs read:
<root>, <blog>, <posts>/<post>, <pages>/<page>, threaded <comments> with <replies>)."""

from __future__ import annotations

BLOG = "https://docteur-z.over-blog.com/"
IMAGE = "https://img.over-blog-kiwi.com/1/23/45/67/20200624/ob_73dba5_radio-thorax.jpg"
RESIZED = f"https://resize.over-blog.com/300x300.jpg?{IMAGE}#width=820&height=600"
THUMBOR = "https://image.over-blog.com/AbCdEf=/filters:no_upscale()/image%2F0651865%2F20241212%2Fob_561223_schema.png"


def comment(when: str, author: str, text: str, *, status: str = "1", email: str = "", url: str = "",
            replies: str = "") -> str:
    return (f"<comment><published_at>{when}</published_at><status>{status}</status><author_name>{author}"
            f"</author_name><author_email>{email}</author_email><author_url>{url}</author_url><author_ip>192.0.2.30"
            f"</author_ip><content><![CDATA[{text}]]></content>"
            + (f"<replies>{replies}</replies>" if replies else "") + "</comment>")


def export() -> str:
    garde = (f'<p>Une nuit de garde.</p><p><a href="{IMAGE}"><img src="{RESIZED}" alt="Radio" /></a></p>'
             f'<p><img src="{THUMBOR}" alt="Schéma" /></p>'
             f'<p>Voir <a href="{BLOG}2019/01/installation.html">mon installation</a>.</p>')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<root>
<blog><title>Le blog du Dr Z</title><url>{BLOG}</url></blog>
<posts>
<post><title>Garde de nuit</title><slug>2020/06/garde-de-nuit.html</slug><content><![CDATA[{garde}]]></content>
<status>2</status><origin>web</origin><created_at>2020-06-23T18:00:00+02:00</created_at>
<published_at>2020-06-24T10:00:00+02:00</published_at><modified_at>2021-01-02T10:00:00+01:00</modified_at>
<author>Dr Z</author><tags>garde,nuit</tags>
<comments>{comment("2020-06-24T12:00:00+02:00", "Mme L.", "Merci docteur !", email="mme.l@example.org",
                   replies=comment("2020-06-24T13:00:00+02:00", "", "Merci à vous.")
                   + comment("2020-06-24T14:00:00+02:00", "Emile", "Pas d'accord.", status="0",
                             url="https://emile.example/"))}
{comment("2020-06-25T09:00:00+02:00", "Paul", "Très juste.")}</comments></post>
<post><title>Installation</title><slug>2019/01/installation.html</slug>
<content><![CDATA[<p>Installé.</p>]]></content><status>2</status><published_at>2019-01-10 09:00:00</published_at>
<tags></tags></post>
<post><title>Un vieux billet</title><slug>article-1234.html</slug><content><![CDATA[<p>De 2008.</p>]]></content>
<status>2</status><created_at>2008-03-01T08:00:00+01:00</created_at></post>
<post><title>Pas fini</title><slug>2020/07/pas-fini.html</slug><content><![CDATA[<p>Brouillon.</p>]]></content>
<status>1</status><created_at>2020-07-01T08:00:00+02:00</created_at></post>
</posts>
<pages>
<page><title>À propos</title><slug>pages/a-propos.html</slug><content><![CDATA[<p>Médecin généraliste.</p>]]></content>
<status>2</status><published_at>2018-01-01T08:00:00+01:00</published_at></page>
</pages>
</root>
"""
