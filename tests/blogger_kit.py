"""Blogger exports in both of Blogger's formats, written for the tests: a doctor's blog with posts, a draft, a page,
labels, images on Google's servers, threaded comments, one removed by its author, the blog author's answer."""

from __future__ import annotations

BLOG = "https://docteur-x.blogspot.com"
PROFILE = "https://www.blogger.com/profile/0123456789"
IMAGE_BIG = "https://blogger.googleusercontent.com/img/b/R29vZ2xl/AVvXsEh/s1600/radio%20thorax.jpg"
IMAGE_SMALL = "https://blogger.googleusercontent.com/img/b/R29vZ2xl/AVvXsEh/s320/radio%20thorax.jpg"


def _kind(kind: str) -> str:
    return f"<category scheme='http://schemas.google.com/g/2005#kind' term='http://schemas.google.com/blogger/2008/kind#{kind}'/>"


def _backup_entry(number: int, kind: str, body: str, *, title: str = "", published: str = "2014-06-03T21:15:00.001+02:00",
                  extra: str = "", author: str = "Dr X", uri: str = PROFILE) -> str:
    return (f"<entry><id>tag:blogger.com,1999:blog-42.post-{number}</id><published>{published}</published>"
            f"<updated>{published}</updated>{_kind(kind)}<title type='text'>{title}</title>"
            f"<content type='html'>{body}</content>{extra}"
            f"<author><name>{author}</name><uri>{uri}</uri><email>noreply@blogger.com</email></author></entry>\n")


def _escaped(html: str) -> str:
    return html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


POST_BODY = (f'<div class="separator"><a href="{IMAGE_BIG}" imageanchor="1"><img border="0" src="{IMAGE_SMALL}" '
             f'width="320" /></a></div>Première ligne<br />seconde ligne<br /><br />Voir <a href="{BLOG}/2013/01/'
             'installation.html">mon installation</a> et le <a href="https://www.has-sante.fr/">site de la HAS</a>.')


def backup_xml() -> str:
    """Blogger's « Sauvegarder le contenu » (the 2008 kinds), as a doctor downloads it."""
    def alternate(path: str) -> str:
        return f"<link rel='alternate' type='text/html' href='{BLOG}{path}' title=''/>"

    def reply_to(post: int, parent: int | None = None) -> str:
        related = (f"<link rel='related' href='https://www.blogger.com/feeds/42/{post}/comments/default/{parent}'/>"
                   if parent else "")
        return (f"<thr:in-reply-to href='{BLOG}/2014/06/garde-de-nuit.html' ref='tag:blogger.com,1999:blog-42.post-{post}' "
                f"type='text/html'/>{related}")

    entries = [
        _backup_entry(1, "settings", "", title="BLOG_NAME"),
        _backup_entry(2, "template", _escaped("<html>…</html>"), title="Template"),
        _backup_entry(1001, "post", _escaped(POST_BODY), title="Garde de nuit",
                      extra=alternate("/2014/06/garde-de-nuit.html")
                      + "<category scheme='http://www.blogger.com/atom/ns#' term='garde'/>"
                      + "<category scheme='http://www.blogger.com/atom/ns#' term='nuit &amp; jour'/>"),
        _backup_entry(1002, "post", _escaped("<p>Installé <b>enfin</b>.</p><a name='more'></a><p>La suite.</p>"),
                      title="Installation",
                      published="2013-01-10T09:00:00.000+01:00", extra=alternate("/2013/01/installation.html")),
        _backup_entry(1003, "post", _escaped("<p>Pas fini.</p>"), title="Brouillon en cours",
                      extra="<app:control xmlns:app='http://purl.org/atom/app#'><app:draft>yes</app:draft></app:control>"),
        _backup_entry(1004, "page", _escaped("<p>Médecin généraliste.</p>"), title="À propos",
                      extra=alternate("/p/a-propos.html")),
        _backup_entry(2001, "comment", _escaped("Merci docteur !<br />Très juste."), author="Mme L.", uri="",
                      published="2014-06-04T08:00:00.000+02:00", extra=reply_to(1001)),
        _backup_entry(2002, "comment", _escaped("Merci à vous."), published="2014-06-04T09:00:00.000+02:00",
                      extra=reply_to(1001, 2001)),
        _backup_entry(2003, "comment", _escaped("Ce commentaire a été supprimé par l'auteur."), author="Anonymous",
                      uri="", published="2014-06-04T10:00:00.000+02:00",
                      extra=reply_to(1001) + "<gd:extendedProperty xmlns:gd='http://schemas.google.com/g/2005' "
                                             "name='blogger.contentRemoved' value='true'/>"),
        _backup_entry(2004, "comment", _escaped("Je réponds au commentaire supprimé."), author="Paul",
                      uri="https://paul.example.org/", published="2014-06-04T11:00:00.000+02:00",
                      extra=reply_to(1001, 2003)),
        _backup_entry(2005, "comment", _escaped("Sur un billet absent."), author="Zoé", uri="",
                      extra=reply_to(9999)),
    ]
    return ("<?xml version='1.0' encoding='UTF-8'?><?xml-stylesheet href='https://www.blogger.com/styles/atom.css' "
            "type='text/css'?>\n<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/"
            "opensearchrss/1.0/' xmlns:gd='http://schemas.google.com/g/2005' xmlns:thr='http://purl.org/syndication/"
            "thread/1.0' xmlns:georss='http://www.georss.org/georss'>\n<id>tag:blogger.com,1999:blog-42.archive</id>"
            "<title type='text'>Le blog du Dr X</title>\n" + "".join(entries) + "</feed>\n")


def takeout_atom() -> str:
    """Google Takeout's Blogger/Blogs/<blog>/feed.atom (the 2018 namespace)."""
    def entry(number: int, kind: str, status: str, body: str, *, title: str = "", filename: str = "",
              published: str = "2020-03-20T18:30:00Z", extra: str = "", author: str = "Dr X",
              author_type: str = "BLOGGER", uri: str = PROFILE) -> str:
        return (f"<entry><id>tag:blogger.com,1999:blog-7.post-{number}</id><blogger:type>{kind}</blogger:type>"
                f"<blogger:status>{status}</blogger:status><author><name>{author}</name><uri>{uri}</uri>"
                f"<blogger:type>{author_type}</blogger:type></author><title>{title}</title>"
                f"<content type='html'>{_escaped(body)}</content><blogger:created>{published}</blogger:created>"
                f"<published>{published}</published><updated>{published}</updated>"
                + (f"<blogger:filename>{filename}</blogger:filename>" if filename else "") + f"{extra}</entry>\n")

    image = "https://1.bp.blogspot.com/-abc/XYZ/AAAA/def/s640/masque"
    entries = [
        entry(11, "POST", "LIVE", f'<p>Le masque :</p><img src="{image}" /><p>Voir <a href="https://docteur-y.blogspot.'
              'com/2020/04/deconfinement.html">la suite</a>.</p>', title="Confinement",
              filename="/2020/03/confinement.html",
              extra="<category term='covid' scheme='tag:blogger.com,1999:blog-7'/><blogger:trashed></blogger:trashed>"
                    "<blogger:metaDescription>Ce que le confinement change au cabinet.</blogger:metaDescription>"),
        entry(12, "POST", "LIVE", "<p>Et après.</p>", title="Déconfinement", filename="/2020/04/deconfinement.html",
              published="2020-05-11T07:00:00Z"),
        entry(13, "POST", "DRAFT", "<p>À finir.</p>", title="Idées"),
        entry(14, "POST", "LIVE", "<p>Supprimé.</p>", title="Jeté", filename="/2019/01/jete.html",
              extra="<blogger:trashed>2020-01-01T00:00:00Z</blogger:trashed>"),
        entry(15, "PAGE", "LIVE", "<p>Cabinet médical.</p>", title="Le cabinet", filename="/p/le-cabinet.html"),
        entry(20, "COMMENT", "LIVE", "Courage !", author="Anonymous", author_type="ANONYMOUS", uri="",
              published="2020-03-21T07:00:00Z",
              extra="<blogger:parent>tag:blogger.com,1999:blog-7.post-11</blogger:parent><blogger:inReplyTo/>"),
        entry(21, "COMMENT", "LIVE", "Bon courage à vous.", author="Anne", author_type="ANONYMOUS", uri="",
              published="2020-03-21T08:00:00Z",
              extra="<blogger:parent>tag:blogger.com,1999:blog-7.post-11</blogger:parent><blogger:inReplyTo/>"),
        entry(22, "COMMENT", "LIVE", "Merci Anne.", published="2020-03-21T09:00:00Z",
              extra="<blogger:parent>tag:blogger.com,1999:blog-7.post-11</blogger:parent>"
                    "<blogger:inReplyTo>tag:blogger.com,1999:blog-7.post-21</blogger:inReplyTo>"),
        entry(23, "COMMENT", "LIVE", "Publicité.", author="Spam", author_type="ANONYMOUS", uri="",
              extra="<blogger:parent>tag:blogger.com,1999:blog-7.post-11</blogger:parent>"
                    "<blogger:trashed>2020-03-22T00:00:00Z</blogger:trashed>"),
    ]
    return ("<?xml version='1.0' encoding='utf-8'?>\n<feed xmlns='http://www.w3.org/2005/Atom' "
            "xmlns:blogger='http://schemas.google.com/blogger/2018'>\n<id>tag:blogger.com,1999:blog-7</id>"
            "<title>Docteur Y</title>\n" + "".join(entries) + "</feed>\n")
