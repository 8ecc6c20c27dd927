/* Confrères comment widget: reading, posting and replying as a guest (list pages: comment-counts.js). The rest
   (signing in, the account, « entre confrères », editing, deleting, reporting) is comments-extra.js, imported on
   demand. Contract and budget: the theme's README. innerHTML only in rich(), with what the service sanitised. */
(() => {
  "use strict";
  if (window.confreresComments) return;
  window.confreresComments = 1;
  const d = document, DAY = 864e5, MIN = 6e4;
  const JS = ((d.currentScript && d.currentScript.src) || "").replace(/[^/]*$/, "");
  const MD = "Markdown : *italique*, **gras**, [lien](https://…), > citation. 10 000 caractères au plus.";
  const OFF = "Le service de commentaires est injoignable. Votre texte est conservé : réessayez dans un instant.";
  const de = (n) => (/^[aeiouyhàâäéèêëîïôöûüœæ]/i.test(n) ? "d'" : "de ") + n; // « d'Anne », « de Paul »

  const h = (tag, attrs, ...kids) => {
    const e = d.createElement(tag);
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of kids.flat()) if (c != null && c !== false && c !== "") e.append(c);
    return e;
  };
  const opt = (s) => h("span", { class: "opt" }, s);

  const keep = (key, empty) => ({
    get() { try { return JSON.parse(localStorage.getItem(key)) || empty; } catch (e) { return empty; } },
    set(v) { try { localStorage.setItem(key, JSON.stringify(v)); } catch (e) { /* storage off: this page only */ } },
  });
  const storage = keep("confreres.comments", {}), session = keep("confreres.session", ""), asked = keep("confreres.signin", []);
  // Back from a sign-in link: out of the address at once; kept only if asked from here (no session fixation).
  const back = /[#&]confreres-session=(cfs1_[\w-]+)/.exec(location.hash), q = new URLSearchParams(location.search);
  const mine = back && [].concat(asked.get()).includes(q.get("confreres-signin"));
  if (back) {
    if (mine) session.set(back[1]);
    q.delete("confreres-signin");
    history.replaceState(history.state, "", location.pathname + (String(q) ? "?" + q : ""));
  }
  const http = (u) => (/^https?:\/\//i.test(u || "") ? u : null);

  // "à l'instant", "il y a 5 minutes", "il y a 2 heures", "hier", "il y a 3 jours", "le 1er mars 2025".
  const ago = new Intl.RelativeTimeFormat("fr");
  const day = (t) => t.toLocaleDateString("fr", { day: "numeric", month: "long", year: "numeric" }).replace(/^1 /, "1er ");
  const since = (t) => {
    const now = new Date(), s = (now - t) / 1e3;
    const days = Math.round((new Date(now).setHours(0, 0, 0, 0) - new Date(t).setHours(0, 0, 0, 0)) / DAY);
    if (s < 60) return "à l'instant";
    if (s < 3600) return ago.format(-Math.floor(s / 60), "minute");
    if (days < 1) return ago.format(-Math.floor(s / 3600), "hour");
    if (days === 1) return "hier";
    return days < 7 ? ago.format(-days, "day") : "le " + day(t);
  };
  const stamp = (iso) => {
    const t = new Date(iso);
    return h("time", { datetime: iso, title: day(t) + " à " + t.toLocaleTimeString("fr", { timeStyle: "short" }) }, since(t));
  };

  // Every call; rejects with the API's {code, message, field}.
  const call = async (url, method, body, headers) => {
    const o = { method: method || "GET", mode: "cors", credentials: "omit", cache: "no-cache", headers: headers || {} };
    if (body) {
      o.body = JSON.stringify(body);
      o.headers["Content-Type"] = "application/json";
    }
    let r, data = null;
    try {
      r = await fetch(url, o);
    } catch (e) {
      throw { message: OFF };
    }
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) throw (data && data.error) || { message: `Erreur du service de commentaires (${r.status}).` };
    return data;
  };

  // A labelled field, its hint and its error (aria-invalid, aria-describedby).
  const describe = (el) => {
    const ids = [el.hint, !el.err.hidden && el.err.id, el.dataset.secret].filter(Boolean).join(" ");
    if (ids) el.setAttribute("aria-describedby", ids);
    else el.removeAttribute("aria-describedby");
  };
  const setError = (el, msg) => {
    el.err.textContent = msg || "";
    el.err.hidden = !msg;
    if (msg) el.setAttribute("aria-invalid", "true");
    else el.removeAttribute("aria-invalid");
    describe(el);
  };
  const field = (name, label, tag, attrs, hint) => {
    const id = "cf-" + name, el = h(tag, { id, name, ...attrs });
    el.hint = hint && id + "-hint";
    el.err = h("span", { id: id + "-err", class: "field-error", hidden: true });
    describe(el);
    return [el, h("p", { class: "field" }, h("label", { for: id }, ...label), el,
      hint && h("span", { id: el.hint, class: "hint" }, hint), el.err)];
  };
  const btn = (label, extra, fn, cls) =>
    h("button", { type: "button", class: cls, onclick: fn }, label, extra && h("span", { class: "visually-hidden" }, extra));
  const badge = (b) => b && h("span", { class: "badge badge--verified", title: b.title || null }, b.label || String(b),
    b.title && h("span", { class: "visually-hidden" }, ` (${b.title})`));
  const rich = (html, cls) => {
    const e = h("div", { class: cls });
    e.innerHTML = html; // sanitised by the service (confreres.sanitize)
    return e;
  };
  const focusOn = (sel) => { const e = d.querySelector(sel); if (e) e.focus(); };

  // t: the thread's state (see thread()), shared with comments-extra.js.
  const isOpen = (m) => m && Date.now() < m.e;
  const owned = (t, id) => t.mine[id] || t.ours[id];
  const auth = (t, headers) => (t.tok ? { ...headers, Authorization: "Bearer " + t.tok } : headers || {});
  const canWrite = (t) => t.mode === "open" || (t.mode === "confreres" && !!t.acct && t.acct.badge_level === "verified");
  const say = (t, msg) => { // emptied first so that the same sentence twice is announced twice
    t.status.textContent = "";
    setTimeout(() => { t.status.textContent = msg; }, 50);
  };

  // use(t, "report", c, art): an export of comments-extra.js, imported once.
  const extra = (t) => t.x ? Promise.resolve(t.x) : (t.p = t.p || import(JS + "comments-extra.js").then(
    (m) => (m.setup(kit), t.x = m), () => { t.p = null; throw { message: OFF }; }));
  const use = (t, name, ...args) => extra(t).then((m) => m[name](t, ...args), (e) => say(t, e.message));

  const page = async (t, offset, skip) => { // skip: inside a top-level thread too large for one page
    const toks = Object.values(t.mine).filter((m) => m.u === t.url).map((m) => m.t).slice(-50);
    const r = await call(t.api + "comments?url=" + encodeURIComponent(t.url) + (offset ? "&offset=" + offset : "") +
      (skip ? "&skip=" + skip : ""), "GET", null, toks.length ? { "X-Confreres-Tokens": toks.join(", ") } : {});
    ({ next: t.next, depth: t.depth } = r.page);
    t.nextSkip = r.page.next_skip || 0;
    t.seen += r.page.count;
    return r;
  };
  const load = async (t) => {
    t.seen = 0;
    t.doc = await page(t, 0);
    t.mode = t.doc.mode || t.mode;
  };

  // The form: one instance, built here once, moved under the comment being answered.
  const buildForm = (t) => {
    t.title = h("h3", { id: "cf-title" }, "Écrire un commentaire");
    const [text, textP] = field("text", ["Commentaire"], "textarea", { rows: 6, required: true }, "Mise en forme " + MD);
    text.oninput = (e) => import("./secrecy-check.js").then((m) => m.default(e));
    const [author, authorP] = field("author", ["Nom ou pseudonyme ", opt("(facultatif)")], "input", { autocomplete: "name" });
    const [email, emailP] = field("email", ["E-mail ", opt("(facultatif, jamais affiché)")], "input",
      { type: "email", autocomplete: "email" });
    const [website, websiteP] = field("website", ["Site web ", opt("(facultatif)")], "input",
      { type: "url", autocomplete: "url", placeholder: "https://" });
    Object.assign(t, { text, authorP, emailP, fields: { text, author, email, website } });
    t.notify = h("input", { type: "checkbox", id: "cf-notify", name: "notify" });
    t.hp = h("input", { id: "cf-hp", name: "confreres_hp", tabindex: -1, autocomplete: "off" });
    t.formErr = h("p", { class: "form-error", role: "alert", hidden: true });
    t.submit = h("button", { type: "submit" }, "Publier");
    t.cancel = btn("Annuler", " la réponse", () => {
      const was = t.replyTo;
      resetReply(t);
      place(t);
      focusOn(`#comment-${was} .cf-reply`);
    }, "secondary");
    t.cancel.hidden = true;
    // (with the page's secrecy reminder, _comments.html)
    t.form = h("form", { class: "comments-form", novalidate: true, "aria-labelledby": "cf-title" }, t.title,
      t.root.querySelector(".comments-reminder"), textP, authorP, emailP, websiteP,
      h("p", { class: "field check" }, t.notify, " ", h("label", { for: "cf-notify" }, "Me prévenir des réponses par e-mail")),
      h("p", { class: "hp", "aria-hidden": "true" }, h("label", { for: "cf-hp" }, "Laissez ce champ vide"), t.hp),
      t.formErr, h("p", { class: "form-actions" }, t.submit, " ", t.cancel));
    t.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      post(t);
    });
  };
  const resetReply = (t) => {
    t.replyTo = null;
    t.title.textContent = "Écrire un commentaire";
    t.cancel.hidden = true;
  };
  const place = (t) => {
    if (!canWrite(t)) return t.form.remove();
    const art = t.replyTo && d.getElementById("comment-" + t.replyTo);
    if (t.replyTo && !art) resetReply(t);
    if (art) {
      if (art.nextSibling !== t.form) art.after(t.form);
    } else if (t.form.parentNode !== t.home) t.home.append(t.form);
  };
  const reply = (t, c) => {
    resetReply(t);
    t.replyTo = c.id;
    t.title.textContent = "Répondre à " + c.author.name;
    t.cancel.hidden = false;
    place(t);
    t.text.focus();
  };
  // Where the service will show it: under its parent, or flat at the last level.
  const insert = (t, c) => {
    c.replies = c.replies || [];
    const at = t.replyTo && t.nodes.get(t.replyTo);
    if (!at) t.doc.comments.push(c);
    else if (at.level < t.depth) at.c.replies.push(c);
    else {
      c.in_reply_to = { id: at.c.id, name: at.c.author.name };
      (at.up ? at.up.replies : t.doc.comments).push(c);
    }
    t.doc.total += 1;
    t.seen += 1;
  };
  const post = async (t) => {
    const { fields } = t, { text, author, email, website } = fields;
    for (const k in fields) setError(fields[k], "");
    t.formErr.hidden = true;
    t.submit.disabled = true;
    t.form.setAttribute("aria-busy", "true");
    const a = t.acct, body = { url: t.url, parent: t.replyTo, text: text.value,
      author: a ? a.display_name || author.value : author.value, email: a ? a.email : email.value,
      website: website.value, notify: t.notify.checked, confreres_hp: t.hp.value };
    try {
      const r = await call(t.api + "comments", "POST", body, auth(t));
      const c = r.comment;
      if (c) {
        t.mine[c.id] = { t: r.edit_token, u: t.url, e: Date.parse(r.editable_until) || Date.now() + 14 * MIN };
        storage.set(t.mine);
        insert(t, c);
        await extra(t).catch(() => {}); // its « Modifier » and « Supprimer »
      }
      text.value = "";
      resetReply(t);
      render(t);
      say(t, r.message);
      if (c) focusOn("#comment-" + c.id);
    } catch (e) {
      const el = fields[e.field === "notify" ? "email" : e.field];
      if (e.code === "not_signed_in" || e.code === "confreres_only") await use(t, "refused", e);
      else if (el && !el.closest("[hidden]")) {
        setError(el, e.message);
        el.focus();
      } else {
        t.formErr.textContent = e.message;
        t.formErr.hidden = false;
      }
    } finally {
      t.submit.disabled = false;
      t.form.removeAttribute("aria-busy");
    }
  };

  // « Se connecter », until comments-extra.js draws the account line.
  const sync = (t) => {
    if (t.x) t.x.bar(t);
    else {
      t.bar.hidden = t.mode === "closed";
      t.bar.replaceChildren(h("p", {}, btn("Se connecter", " par un lien envoyé par e-mail", () => use(t, "signin"), "cf-signin")));
    }
    render(t);
  };

  const name = (a, cls) => {
    const p = http(a.profile), to = p || http(a.website);
    return h("span", { class: cls }, to ? h("a", { href: to, rel: p ? null : "nofollow ugc noopener" }, a.name) : a.name);
  };
  // On the reader's own comments, comments-extra.js adds « Modifier », « Supprimer ».
  const actions = (t, c, art) => {
    const a = c.author, pending = c.status === "pending", m = owned(t, c.id);
    const acts = h("p", { class: "comment-actions" });
    if (canWrite(t) && !pending) acts.append(btn("Répondre", " à " + a.name, () => reply(t, c), "cf-reply"));
    if (m) t.x && t.x.own(t, c, art, acts, m);
    else if (!pending) acts.append(btn("Signaler", " le commentaire " + de(a.name), () => use(t, "report", c, art), "cf-report"));
    if (acts.firstChild) art.append(acts);
  };
  const item = (t, c, parentName) => {
    const a = c.author || {}, pending = c.status === "pending";
    const li = h("li", { class: "comment" + (a.is_post_author ? " comment--post-author" : "") +
      (c.deleted ? " comment--deleted" : "") + (pending ? " comment--pending" : "") });
    const art = h("article", { id: "comment-" + c.id, class: "comment-body", tabindex: -1,
      "aria-label": c.deleted ? "Commentaire supprimé" : "Commentaire " + de(a.name) });
    li.append(art);
    if (c.deleted) {
      art.append(h("p", { class: "comment-deleted" }, "Commentaire supprimé."));
      return li;
    }
    art.append(
      h("header", { class: "comment-meta" }, name(a, "comment-author"), badge(a.badge),
        a.is_post_author && h("span", { class: "badge badge--author", title: "Auteur de l'article" }, "Auteur"),
        parentName && h("span", { class: "comment-parent" }, "en réponse à " + parentName),
        h("a", { class: "comment-date", href: "#comment-" + c.id }, stamp(c.created)),
        c.edited && h("span", { class: "comment-edited" }, "(modifié)")),
      rich(c.html, "comment-text"));
    // (DOM append() writes a missing box as the text "undefined": append it only when there is one.)
    if (a.interests && a.badge) art.append(h("details", { class: "comment-interests" },
      h("summary", {}, "Liens d'intérêts déclarés par " + a.name),
      rich(a.interests, "comment-text")));
    if (pending) art.append(h("p", { class: "comment-pending" }, "En attente de validation par l'auteur du blog"));
    actions(t, c, art);
    return li;
  };
  // The service nests replies `depth` levels deep at most; a deeper one (`in_reply_to`) says whom it answers.
  const walk = (t, list, into) => {
    const stack = list.map((c) => [c, into, 1, null]).reverse();
    while (stack.length) {
      const [c, ol, level, up] = stack.pop();
      const r = c.in_reply_to;
      t.nodes.set(c.id, { c, level, up });
      const li = item(t, c, r ? r.name || "un commentaire supprimé" : "");
      ol.append(li);
      if (c.replies && c.replies.length) {
        const sub = h("ol", { class: "comment-list comment-replies", "data-depth": level + 1 });
        li.append(sub);
        for (let i = c.replies.length - 1; i >= 0; i--) stack.push([c.replies[i], sub, level + 1, c]);
      }
    }
  };
  // Answers from the network's blogs, Webmentions: worded as the no-JS page.
  const VERBS = { reply: "a répondu", like: "a aimé", repost: "a partagé", bookmark: "a mis en favori" };
  const section = (id, label, items, entry) => (items && items.length ? h("section", { "aria-labelledby": id },
    h("h3", { id }, label), h("ol", { class: "comment-list comments-" + id.slice(3) }, ...items.map(entry))) : "");
  const answer = (x) => {
    const a = x.author || {};
    return h("li", { class: "comment answer" }, h("article", { class: "comment-body" },
      h("header", { class: "comment-meta" }, name(a, "comment-author"), badge(a.badge), x.published && stamp(x.published)),
      h("p", {}, a.name + " a répondu sur son blog : ", h("a", { href: http(x.url) }, `« ${x.title || x.url} »`),
        x.site_title && " — ", x.site_title && h("cite", {}, x.site_title)),
      x.excerpt && h("p", { class: "excerpt" }, x.excerpt)));
  };
  const mention = (x) => h("li", { id: "mention-" + x.id, class: "comment mention" }, h("article", { class: "comment-body" },
    h("header", { class: "comment-meta" }, name(x.author || {}, "comment-author"), stamp(x.published || x.received)),
    h("p", {}, (VERBS[x.type] || "a mentionné ce billet") + " sur ",
      h("a", { href: http(x.url), rel: "nofollow ugc noopener" }, x.title ? `« ${x.title} »` : x.url)),
    x.html && rich(x.html, "comment-text")));
  // Likes and boosts from the fediverse: « 3 partages et 5 « j'aime » sur le fédivers ».
  const fedi = ({ boosts: b, likes: l } = {}) => (b || l ? h("p", { class: "comments-fediverse" }, [b && b + " partage" +
    (b > 1 ? "s" : ""), l && l + " « j'aime »"].filter(Boolean).join(" et ") + " sur le fédivers") : "");
  const crosslinks = (t) => t.links.replaceChildren(section("cf-answers", "Réponses des confrères", t.doc.answers, answer),
    section("cf-mentions", "Mentions", t.doc.mentions, mention), fedi(t.doc.fediverse));

  // « Afficher plus »: the next page, appended.
  const moreButton = (t) => {
    const more = t.more = btn("", null, async () => {
      more.disabled = true;
      try {
        const r = await page(t, t.next, t.nextSkip), fresh = r.comments.filter((c) => !t.nodes.has(c.id)), first = fresh[0];
        t.doc.comments.push(...fresh); // (one posted here since is shown already)
        const frag = d.createDocumentFragment();
        walk(t, fresh, frag);
        t.top.append(frag);
        if (first) focusOn("#comment-" + first.id);
      } catch (e) {
        say(t, e.message);
      } finally {
        more.disabled = false;
        moreShown(t);
      }
    }, "secondary cf-more");
    t.moreP = h("p", { class: "comments-more" }, more);
  };
  const moreShown = (t) => {
    t.more.textContent = `Afficher plus de commentaires (${t.doc.total - t.seen})`;
    if (t.next === null) t.moreP.remove();
    else if (!t.moreP.isConnected) t.list.append(t.moreP);
  };
  const render = (t) => {
    const active = t.form.contains(d.activeElement) && d.activeElement;
    t.top = h("ol", { class: "comment-list", "data-depth": 1 });
    t.nodes = new Map();
    const frag = d.createDocumentFragment();
    walk(t, t.doc.comments, frag);
    t.top.append(frag);
    t.list.replaceChildren(t.doc.comments.length ? t.top : h("p", { class: "comments-empty" }, "Aucun commentaire pour l'instant."));
    moreShown(t);
    crosslinks(t);
    if (t.built && t.doc.answers) t.built.hidden = true;
    place(t);
    if (active) active.focus();
    if (t.x) t.x.tick(t);
  };

  // This browser's edit tokens, the expired ones dropped.
  const tokens = () => {
    const mine = storage.get();
    for (const id in mine) {
      const m = mine[id];
      if (m.at) m.e = m.at + m.w * MIN - 1e4;
      delete m.at, delete m.w, delete m.x; // an older widget's record
      if (!(Date.now() - m.e < 29 * DAY)) delete mine[id];
    }
    storage.set(mine);
    return mine;
  };
  const mount = (t) => {
    const { root } = t;
    t.heading = root.querySelector("h2") || h("h2");
    t.heading.tabIndex = -1;
    t.status = h("p", { class: "comments-status", role: "status", "aria-live": "polite" });
    t.list = h("div", { class: "comments-live" });
    t.links = h("div", { class: "comments-links" });
    t.bar = h("div", { class: "comments-account" });
    t.explain = h("div", { class: "comments-explain", hidden: true });
    t.home = h("div", { class: "comments-write" }, t.explain, t.bar);
    buildForm(t);
    moreButton(t);
    const notices = root.querySelectorAll(".comments-notice");
    if (t.mode === "confreres") for (const e of notices) e.hidden = true; // the widget's explanation replaces it
    else if (t.mode === "closed" && !notices.length) t.home.append(h("p", { class: "comments-notice" }, "Les commentaires sont fermés."));
    for (const e of root.querySelectorAll(".comments-nojs")) e.hidden = true;
    for (const e of root.querySelectorAll(".comments-snapshot")) e.remove(); // its ids are the live thread's
    t.app.replaceChildren(t.status, t.list, t.links, t.home);
    t.app.hidden = false;
    sync(t);
  };
  const thread = async (root) => {
    const api = root.dataset.api;
    const t = { root, api, url: root.dataset.threadUrl, svc: api.replace(/api\/$/, ""), mode: root.dataset.mode || "open",
      app: root.querySelector(".comments-app") || root.appendChild(h("div", { class: "comments-app" })),
      built: d.querySelector("section.answers"), // the build's list (_crosslinks.html): the live one replaces it
      // mine: {id: {t: edit token, u: thread, e: end of the edit window (ms)}}; ours: {id: {e}} of the account
      mine: tokens(), ours: {}, tok: session.get(), acct: null, sent: "", replyTo: null, seen: 0, next: null,
      nextSkip: 0, depth: 5, nodes: new Map() }; // nodes: id -> {c, level, up} of the comments shown
    try {
      // Signed in, or an editable comment here: comments-extra.js too.
      const mine = Object.values(t.mine).some((m) => m.u === t.url && isOpen(m));
      await Promise.all([load(t), (t.tok || mine) && extra(t).then((m) => m.who(t), () => {})]);
    } catch (e) {
      return; // keep the static snapshot and the no-JS link
    }
    if (t.mode === "confreres") await extra(t).catch(() => {}); // its first step is signing in
    mount(t);
    if (back) {
      say(t, !mine ? "Ce lien de connexion n'a pas été demandé depuis ce navigateur : demandez-en un ici."
        : t.acct ? "Vous êtes connecté·e." : "Ce lien de connexion n'est plus valable : demandez-en un nouveau.");
      t.heading.focus();
    }
  };

  // For comments-extra.js (a module cannot import a classic script).
  const kit = { h, field, btn, setError, badge, call, say, focusOn, render, sync, load, auth, owned, isOpen, canWrite,
    storage, session, asked, MD };

  const root = d.getElementById("commentaires");
  if (root && root.dataset.threadUrl && /^https?:\/\//.test(root.dataset.api || "")) thread(root);
})();
