"""Movable Type exports written for the tests, as Movable Type, TypePad and Hautetfort write them: entries with
their categories, tags, excerpt and « lire la suite », a draft, a Markdown entry, comments and a trackback, a text
with its own lines of dashes; and an older platform's file (Windows-1252, Windows line ends, dates day first)."""

from __future__ import annotations

BLOG = "https://docteur-x.hautetfort.com"
IMAGE = f"{BLOG}/media/01/02/radio-thorax.jpg"
TYPEPAD_IMAGE = "https://docteur-x.typepad.com/.a/6a00d8341c4f1353ef0120a5a1b2c3970b-pi"


def export() -> str:
    """Movable Type's own export (MT 4+): five entries, the last one comments only."""
    return f"""AUTHOR: Dr X
TITLE: Garde de nuit
BASENAME: garde_de_nuit
STATUS: Publish
ALLOW COMMENTS: 1
CONVERT BREAKS: 1
ALLOW PINGS: 1
PRIMARY CATEGORY: Pratique
CATEGORY: Pratique
CATEGORY: Organisation des soins
DATE: 06/03/2014 09:15:00 PM
TAGS: garde,"nuit & jour"
-----
BODY:
Première ligne
seconde ligne

<img src="{IMAGE}" alt="Radio" width="400" />

Voir <a href="{BLOG}/archive/2013/01/10/installation.html">mon installation</a>.
-----
Le Dr X, médecin de garde.
--------
NB: un trait de huit tirets aussi.
-----
EXTENDED BODY:
La suite de la nuit, <a href="https://www.has-sante.fr/">selon la HAS</a>.
-----
EXCERPT:

-----
KEYWORDS:
garde médecin nuit
-----
COMMENT:
AUTHOR: Mme L.
EMAIL: mme.l@example.org
IP: 192.0.2.10
URL: https://lecteurs.example.org/mme-l
DATE: 06/04/2014 08:00:00 AM
Merci docteur !
Très juste.
-----
COMMENT:
AUTHOR: Dr X
EMAIL: drx@example.org
IP: 192.0.2.11
URL:
DATE: 06/04/2014 09:30:00 AM
Merci à vous.
-----
PING:
TITLE: Une garde
URL: https://autre-blog.example/une-garde
IP: 192.0.2.12
BLOG NAME: L'autre blog
DATE: 06/05/2014 10:00:00 AM
Ce billet cite…
-----
--------
AUTHOR: Dr X
TITLE: Installation
BASENAME: installation
STATUS: Publish
CONVERT BREAKS: 0
DATE: 01/10/2013 09:00:00 AM
-----
BODY:
<p>Installé <b>enfin</b>.</p>
<p><img src="{TYPEPAD_IMAGE}" /></p>
-----
EXTENDED BODY:
<p>La suite.</p>
-----
EXCERPT:
Installé enfin, au village.
-----
--------
AUTHOR: Dr X
TITLE: Brouillon en cours
STATUS: Draft
DATE: 06/10/2014 10:00:00 AM
-----
BODY:
Pas fini.
-----
--------
AUTHOR: Dr X
TITLE: Écrit en Markdown
BASENAME: ecrit_en_markdown
STATUS: Publish
CONVERT BREAKS: markdown
DATE: 02/15/2015 14:00:00
-----
BODY:
Une *liste* :

* un
* deux
-----
--------
NO ENTRY: 1
TITLE: Installation
BASENAME: installation
DATE: 01/10/2013 09:00:00 AM
-----
COMMENT:
AUTHOR: Paul
DATE: 01/12/2013 18:00:00
Bienvenue au village !
-----
--------
"""


def older_platform() -> bytes:
    """An older French platform's file: Windows-1252, Windows line ends, dates day first (the 31st says so)."""
    text = """AUTHOR: Dr Y
TITLE: Réflexions d'été
STATUS: Publish
DATE: 31/07/2009 18:30:00
CATEGORY: Humeurs
-----
BODY:
<p>Chaleur et déserts médicaux.</p>
-----
COMMENT:
AUTHOR: Hélène
DATE: 02/08/2009 07:45:00
Très juste, docteur.
-----
--------
AUTHOR: Dr Y
TITLE: Rentrée
STATUS: Publish
DATE: 01/09/2009 08:00:00
-----
BODY:
<p>La rentrée des internes.</p>
-----
--------
"""
    return text.replace("\n", "\r\n").encode("windows-1252")
