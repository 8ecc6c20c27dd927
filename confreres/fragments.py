"""`once`: a part of the theme's pages made once per blog build, then repeated as made.

The footer (the network's blogs, the feeds, the letter's form) and the author box read only the blog's settings
and pages, which do not change while Pelican writes: made again for each of a blog's ~300 pages, they were a
twentieth of its build. Pelican makes one Jinja environment per generator and per run, so what is kept on it
lives as long as one blog's build, and the next build (another blog, a preview) makes its own.

In a template: `{% call once("footer", SITEURL) %}…{% endcall %}` around a part that reads nothing of the page
being written (no `output_file`, `article`, `page`…) but what follows its name: a part that did would show the
first page's on every page. SITEURL is one per page with relative URLs (`confreres preview`: « . », « .. »).
"""

from __future__ import annotations

import jinja2


@jinja2.pass_environment
def once(environment: jinja2.Environment, name: str, *depends_on, caller) -> str:
    made = environment.__dict__.setdefault("_confreres_once", {})
    key = (name, *depends_on)
    if key not in made:
        made[key] = caller()
    return made[key]


JINJA_GLOBALS = {"once": once}
