/* Confrères comment widget: vanilla JS, no dependency, CSP-friendly (no inline code, no eval).
   Progressive enhancement of templates/_comments.html (see the theme README):
   - #commentaires[data-thread-url][data-api][data-mode]: the live thread (comments, answers of the network's
     blogs, Webmentions) and the form go in .comments-app; when the service cannot be reached, the static
     snapshot and the no-JS link stay as they are;
   - .comment-count[data-count-url]: filled by ONE GET <api>counts?url=...&url=... (api from
     body[data-comments-api], else #commentaires[data-api]).
   Cross-origin safe: fetch in cors mode, no credentials, JSON bodies, tokens in headers, no cookie.
   Sign-in: POST <api>auth/request with this page as `return`; the mailed link comes back here with
   #confreres-session=<token>, kept in localStorage["confreres.session"] and sent as `Authorization: Bearer`
   on writes and GET <api>account only (thread reads stay cacheable). Edit tokens stay in
   localStorage["confreres.comments"], go in X-Edit-Token, and in X-Confreres-Tokens so authors see their
   own pending comments; the Markdown to edit comes from GET <api>comments/<id> (its owner only). Signed in,
   GET <api>account/comments?url= (once, with the session) names the member's own comments of the thread, so
   « Modifier » / « Supprimer » work with the session on a device that holds no edit token for them.
   Threads come a page of top-level comments at a time (`page.next`, `page.next_skip`, « Afficher plus »), each rendered
   once, without recursion, into a DocumentFragment.
   Untrusted strings only ever go through textContent/attributes; innerHTML (rich()) takes only `html` and
   `interests`, sanitised by the service. */
(() => {
  "use strict";
  if (window.confreresComments) return;
  window.confreresComments = 1;
  const d = document, DAY = 864e5, MIN = 6e4;
  const MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(" ");
  const MD = "Markdown : *italique*, **gras**, [lien](https://…), > citation. 10 000 caractères au plus.";

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
  const pl = (n, w) => `${n} ${w}${n > 1 ? "s" : ""}`;

  const keep = (key, empty) => ({
    get() { try { return JSON.parse(localStorage.getItem(key)) || empty; } catch (e) { return empty; } },
    set(v) { try { localStorage.setItem(key, JSON.stringify(v)); } catch (e) { /* storage off: this page only */ } },
  });
  const storage = keep("confreres.comments", {}), session = keep("confreres.session", "");
  // Back from the mailed sign-in link: take the session out of the address at once.
  const back = /[#&]confreres-session=(cfs1_[\w-]+)/.exec(location.hash);
  if (back) {
    session.set(back[1]);
    history.replaceState(history.state, "", location.pathname + location.search);
  }
  const http = (u) => (/^https?:\/\//i.test(u || "") ? u : null);

  // French dates: "à l'instant", "il y a 5 minutes", "il y a 2 heures", "hier", "il y a 3 jours", "le 1er mars 2025".
  const day = (t) => `${t.getDate() === 1 ? "1er" : t.getDate()} ${MONTHS[t.getMonth()]} ${t.getFullYear()}`;
  const full = (t) => `${day(t)} à ${t.getHours()} h ${String(t.getMinutes()).padStart(2, "0")}`;
  const since = (t) => {
    const now = new Date(), s = (now - t) / 1e3;
    const days = Math.round((new Date(now).setHours(0, 0, 0, 0) - new Date(t).setHours(0, 0, 0, 0)) / DAY);
    if (s < 60) return "à l'instant";
    if (s < 3600) return "il y a " + pl(Math.floor(s / 60), "minute");
    if (days < 1) return "il y a " + pl(Math.floor(s / 3600), "heure");
    if (days === 1) return "hier";
    return days < 7 ? `il y a ${days} jours` : "le " + day(t);
  };

  // One fetch for every call; rejects with the API's {code, message, field} (or a French network message).
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
      throw { message: "Le service de commentaires est injoignable. Votre texte est conservé : réessayez dans un instant." };
    }
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) throw (data && data.error) || { message: `Erreur du service de commentaires (${r.status}).` };
    return data;
  };

  const counts = async (api) => {
    const spans = [...d.querySelectorAll(".comment-count[data-count-url]")];
    if (!spans.length || !/^https?:\/\//.test(api)) return;
    const urls = [...new Set(spans.map((s) => s.dataset.countUrl))];
    for (let i = 0; i < urls.length; i += 200) {
      let n;
      try {
        n = await call(api + "counts?" + urls.slice(i, i + 200).map((u) => "url=" + encodeURIComponent(u)).join("&"));
      } catch (e) {
        return;
      }
      for (const s of spans) {
        const k = n[s.dataset.countUrl];
        if (typeof k === "number") s.textContent = k ? pl(k, "commentaire") : "Aucun commentaire";
      }
    }
  };

  // A labelled field with its hint and its error message (aria-invalid + aria-describedby).
  const describe = (el) => {
    const ids = [el.hint, !el.err.hidden && el.err.id].filter(Boolean).join(" ");
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
    e.innerHTML = html; // sanitised by the service (confreres.sanitize.clean): comments, interests, mentions
    return e;
  };
  const stamp = (iso) => {
    const t = new Date(iso);
    return h("time", { datetime: iso, title: full(t) }, since(t));
  };
  const left = (e) => "Modifiable encore " + pl(Math.max(1, Math.ceil((e - Date.now()) / MIN)), "minute");

  const thread = async (root) => {
    const api = root.dataset.api, url = root.dataset.threadUrl, svc = api.replace(/api\/$/, "");
    const app = root.querySelector(".comments-app") || root.appendChild(h("div", { class: "comments-app" }));
    const built = d.querySelector("section.answers"); // the build's list (_crosslinks.html): the live one replaces it
    const mine = storage.get(); // {id: {t: edit token, u: thread url, e: end of the edit window (ms)}}
    const isOpen = (m) => m && Date.now() < m.e;
    let ours = {}; // signed in: {id: {e: end of the edit window (ms)}} of the account's comments here, not stored
    const owned = (id) => mine[id] || ours[id];
    for (const id in mine) {
      const m = mine[id];
      if (m.at) m.e = m.at + m.w * MIN - 1e4; // an older widget's record
      delete m.at, delete m.w, delete m.x; // no Markdown kept here any more: the service has it
      if (!(Date.now() - m.e < 29 * DAY)) delete mine[id];
    }
    storage.set(mine);
    let doc, mode = root.dataset.mode || "open", replyTo = null, timer, tok = session.get(), acct = null, sent = "";
    // nodes: id -> {c, level, up} of the comments shown (to place a reply)
    let seen = 0, next = null, nextSkip = 0, depth = 5, nodes = new Map();
    const auth = (headers) => (tok ? { ...headers, Authorization: "Bearer " + tok } : headers || {});
    const page = async (offset, skip) => { // skip: inside a top-level thread too large for one page
      const toks = Object.values(mine).filter((m) => m.u === url).map((m) => m.t).slice(-50);
      const r = await call(api + "comments?url=" + encodeURIComponent(url) + (offset ? "&offset=" + offset : "") +
        (skip ? "&skip=" + skip : ""), "GET", null, toks.length ? { "X-Confreres-Tokens": toks.join(", ") } : {});
      ({ next, depth } = r.page);
      nextSkip = r.page.next_skip || 0;
      seen += r.page.count;
      return r;
    };
    const load = async () => {
      seen = 0;
      doc = await page(0);
      mode = doc.mode || mode;
    };
    const who = async () => {
      acct = null;
      ours = {};
      if (tok) {
        try {
          const [a, o] = await Promise.all([call(api + "account", "GET", null, auth()),
            call(api + "account/comments?url=" + encodeURIComponent(url), "GET", null, auth()).catch(() => null)]);
          acct = a.account;
          for (const c of (o && o.comments) || []) ours[c.id] = { e: Date.parse(c.editable_until) || 0 };
        } catch (e) {
          if (e.code === "not_signed_in") tok = "", session.set("");
        }
      }
    };
    try {
      await Promise.all([load(), who()]);
    } catch (e) {
      return; // keep the static snapshot and the no-JS link
    }

    const heading = root.querySelector("h2") || h("h2");
    heading.tabIndex = -1;
    const status = h("p", { class: "comments-status", role: "status", "aria-live": "polite" });
    const say = (msg) => { // emptied first so that the same sentence twice is announced twice
      status.textContent = "";
      setTimeout(() => { status.textContent = msg; }, 50);
    };
    const list = h("div", { class: "comments-live" });
    const links = h("div", { class: "comments-links" });
    const bar = h("div", { class: "comments-account" });
    const explain = h("div", { class: "comments-explain" });
    const home = h("div", { class: "comments-write" }, explain, bar);
    const focusOn = (sel) => { const e = d.querySelector(sel); if (e) e.focus(); };
    const canWrite = () => mode === "open" || (mode === "confreres" && !!acct && acct.badge_level === "verified");

    // The form: one instance, moved under the comment being answered.
    const title = h("h3", { id: "cf-title" }, "Écrire un commentaire");
    const [text, textP] = field("text", ["Commentaire"], "textarea", { rows: 6, required: true }, "Mise en forme " + MD);
    text.oninput = (e) => import("./secrecy-check.js").then((m) => m.default(e));
    const [author, authorP] = field("author", ["Nom ou pseudonyme ", opt("(facultatif)")], "input", { autocomplete: "name" });
    const [email, emailP] = field("email", ["E-mail ", opt("(facultatif, jamais affiché)")], "input",
      { type: "email", autocomplete: "email" });
    const [website, websiteP] = field("website", ["Site web ", opt("(facultatif)")], "input",
      { type: "url", autocomplete: "url", placeholder: "https://" });
    const fields = { text, author, email, website };
    const notify = h("input", { type: "checkbox", id: "cf-notify", name: "notify" });
    const hp = h("input", { id: "cf-hp", name: "confreres_hp", tabindex: -1, autocomplete: "off" });
    const formErr = h("p", { class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit" }, "Publier");
    const resetReply = () => {
      replyTo = null;
      title.textContent = "Écrire un commentaire";
      cancel.hidden = true;
    };
    const cancel = btn("Annuler", " la réponse", () => {
      const was = replyTo;
      resetReply();
      place();
      focusOn(`#comment-${was} .cf-reply`);
    }, "secondary");
    cancel.hidden = true;
    const form = h("form", { class: "comments-form", novalidate: true, "aria-labelledby": "cf-title" }, title,
      h("p", { class: "comments-reminder" }, h("strong", {}, "Secret médical : "),
        "n'écrivez rien qui permette de reconnaître un patient (nom, initiales avec des dates, maladie rare avec " +
        "lieu et date, photo). Pas de conseil médical personnalisé : pour votre cas, parlez-en à votre médecin. ",
        h("a", { href: svc + "charte" }, "Charte des commentaires")),
      textP, authorP, emailP, websiteP,
      h("p", { class: "field check" }, notify, " ", h("label", { for: "cf-notify" }, "Me prévenir des réponses par e-mail")),
      h("p", { class: "hp", "aria-hidden": "true" }, h("label", { for: "cf-hp" }, "Laissez ce champ vide"), hp),
      formErr, h("p", { class: "form-actions" }, submit, " ", cancel));

    const place = () => {
      if (!canWrite()) return form.remove();
      const art = replyTo && d.getElementById("comment-" + replyTo);
      if (replyTo && !art) resetReply();
      if (art) {
        if (art.nextSibling !== form) art.after(form);
      } else if (form.parentNode !== home) home.append(form);
    };
    const reply = (c) => {
      resetReply();
      replyTo = c.id;
      title.textContent = "Répondre à " + c.author.name;
      cancel.hidden = false;
      place();
      text.focus();
    };

    // Signed in or not: the « Connecté·e » line or « Se connecter », the "entre confrères" next step, the fields.
    const out = (msg) => {
      tok = "";
      session.set("");
      acct = null;
      ours = {};
      sync();
      say(msg);
    };
    const signin = () => {
      const [mail, p] = field("signin-email", ["Votre adresse e-mail"], "input",
        { type: "email", autocomplete: "email", required: true },
        "Nous vous envoyons un lien de connexion : ouvrez-le pour revenir sur cette page, connecté·e.");
      const f = h("form", { class: "comments-form comments-signin", novalidate: true, "aria-label": "Connexion" }, p, h("p", { class: "form-actions" },
        h("button", { type: "submit" }, "Recevoir le lien de connexion"), " ",
        btn("Annuler", null, () => { sync(); focusOn(".cf-signin"); }, "secondary")));
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        try {
          await call(api + "auth/request", "POST", { email: mail.value, return: location.href.split("#")[0] });
          sent = `Un lien de connexion vous a été envoyé à ${mail.value.trim()}. Ouvrez-le dans ce navigateur ` +
            "pour revenir ici connecté·e.";
          sync();
          say(sent);
          focusOn(".comments-sent");
        } catch (e) {
          setError(mail, e.message);
          mail.focus();
        }
      });
      bar.replaceChildren(f);
      mail.focus();
    };
    const signout = async () => {
      try {
        await call(api + "auth/signout", "POST", null, auth());
      } catch (e) {
        if (e.code !== "not_signed_in") return say(e.message);
      }
      out("Vous êtes déconnecté·e.");
      focusOn(".cf-signin");
    };
    const sync = () => {
      const ask = h("p", {}, btn("Se connecter", " par un lien envoyé par e-mail", signin, "cf-signin"));
      bar.hidden = mode === "closed" && !acct;
      bar.replaceChildren(h("div", {}, acct
        ? h("p", {}, acct.display_name
          ? ["Connecté·e : ", h("strong", {}, acct.display_name), " ", badge(acct.badge), " ",
            h("a", { href: svc + "account" }, "Mon profil")]
          : ["Connecté·e — choisissez un nom sur ", h("a", { href: svc + "account" }, "votre compte"), " ",
            badge(acct.badge)], " ", btn("Se déconnecter", null, signout, "secondary cf-signout"))
        : [sent && h("p", { class: "comments-sent", tabindex: -1 }, sent), ask]));
      const v = root.dataset.verifyUrl || svc + "verification";
      explain.hidden = mode !== "confreres";
      explain.replaceChildren(h("p", {}, "Fil entre confrères : lisible par tous ; seuls les médecins vérifiés " +
        "peuvent y répondre."), canWrite() ? "" : h("p", {}, acct
        ? ["Vous êtes connecté·e, mais votre inscription de médecin n'est pas encore vérifiée. ",
          h("a", { href: v }, "Faire vérifier mon inscription"), " : votre numéro RPPS, puis une connexion " +
          "Pro Santé Connect ou le parrainage de deux confrères vérifiés."]
        : "Vous êtes médecin ? Connectez-vous (lien par e-mail), puis faites vérifier votre inscription : votre " +
          "numéro RPPS, puis une connexion Pro Santé Connect ou le parrainage de deux confrères vérifiés."));
      authorP.hidden = !!(acct && acct.display_name);
      emailP.hidden = !!acct;
      render();
    };

    // A small form inside a comment (edit, report): errors next to the field, what was typed kept.
    const inline = (art, id, label, value, hint, ok, replace, send, back) => {
      const [ta, p] = field(id, [label], "textarea", { rows: replace ? 6 : 3 }, hint);
      const acts = art.querySelector(".comment-actions");
      ta.value = value;
      const f = h("form", { class: "comments-form comments-inline", novalidate: true }, p, h("p", { class: "form-actions" },
        h("button", { type: "submit" }, ok), " ", btn("Annuler", null, () => { render(); focusOn(back); }, "secondary")));
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        try {
          await send(ta.value);
        } catch (e) {
          setError(ta, e.message);
          ta.focus();
        }
      });
      if (replace) art.querySelector(".comment-text").replaceWith(f);
      else acts.before(f);
      acts.hidden = true;
      ta.focus();
    };
    const done = (c, msg) => {
      render();
      say(msg);
      focusOn("#comment-" + c.id);
    };
    const own = (m, r) => { // what only the owner gets back: the source, and when editing ends
      m.e = Date.parse(r.editable_until) || m.e;
      storage.set(mine);
      return r.text;
    };
    // The proof of ownership: the edit token kept here, else the session (a comment written on another device).
    const proof = (m) => (m.t ? auth({ "X-Edit-Token": m.t }) : auth());
    const edit = async (c, art) => {
      const m = owned(c.id);
      let source;
      try {
        source = own(m, await call(api + "comments/" + c.id, "GET", null, m.t ? { "X-Edit-Token": m.t } : auth()));
      } catch (e) {
        return say(e.message);
      }
      if (!isOpen(m)) return done(c, "Le délai de modification de ce commentaire est dépassé.");
      inline(art, "edit-" + c.id, "Modifier votre commentaire", source, MD, "Enregistrer", true, async (text) => {
        const r = await call(api + "comments/" + c.id, "PATCH", { text }, proof(m));
        c.html = r.comment.html;
        c.edited = r.comment.edited;
        own(m, r);
        done(c, "Votre commentaire a été modifié.");
      }, `#comment-${c.id} .cf-edit`);
    };
    const report = (c, art) => inline(art, "report-" + c.id, "Motif du signalement", "",
      "Secret médical, propos déplacé, publicité, spam… Les modérateurs du réseau le liront.", "Envoyer le signalement",
      false, async (reason) => {
        await call(api + "comments/" + c.id + "/report", "POST", { reason });
        done(c, "Merci : votre signalement a été transmis à la modération.");
      }, `#comment-${c.id} .cf-report`);

    const remove = async (c) => {
      if (!window.confirm("Supprimer définitivement votre commentaire ?")) return;
      try {
        await call(api + "comments/" + c.id, "DELETE", null, proof(owned(c.id)));
        delete mine[c.id];
        delete ours[c.id];
        storage.set(mine);
        await load();
        render();
        say("Votre commentaire a été supprimé.");
        heading.focus();
      } catch (e) {
        say(e.message);
      }
    };

    const name = (a, cls) => {
      const p = http(a.profile), to = p || http(a.website);
      return h("span", { class: cls }, to ? h("a", { href: to, rel: p ? null : "nofollow ugc noopener" }, a.name) : a.name);
    };
    const item = (c, parentName) => {
      const a = c.author || {}, pending = c.status === "pending", m = owned(c.id);
      const li = h("li", { class: "comment" + (a.is_post_author ? " comment--post-author" : "") +
        (c.deleted ? " comment--deleted" : "") + (pending ? " comment--pending" : "") });
      const art = h("article", { id: "comment-" + c.id, class: "comment-body", tabindex: -1,
        "aria-label": c.deleted ? "Commentaire supprimé" : "Commentaire de " + a.name });
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
      const acts = h("p", { class: "comment-actions" });
      if (canWrite() && !pending) acts.append(btn("Répondre", " à " + a.name, () => reply(c), "cf-reply"));
      if (isOpen(m)) {
        acts.append(btn("Modifier", " votre commentaire", () => edit(c, art), "cf-edit"),
          btn("Supprimer", " votre commentaire", () => remove(c), "cf-delete"),
          h("span", { class: "comment-window", "data-until": m.e }, left(m.e)));
      } else if (!pending && !m) acts.append(btn("Signaler", " le commentaire de " + a.name, () => report(c, art), "cf-report"));
      if (acts.firstChild) art.append(acts);
      return li;
    };
    // The service nests replies `depth` levels deep at most; a deeper one (`in_reply_to`) says whom it answers.
    const walk = (list, into) => {
      const stack = list.map((c) => [c, into, 1, null]).reverse();
      while (stack.length) {
        const [c, ol, level, up] = stack.pop();
        const r = c.in_reply_to;
        nodes.set(c.id, { c, level, up });
        const li = item(c, r ? r.name || "un commentaire supprimé" : "");
        ol.append(li);
        if (c.replies && c.replies.length) {
          const sub = h("ol", { class: "comment-list comment-replies", "data-depth": level + 1 });
          li.append(sub);
          for (let i = c.replies.length - 1; i >= 0; i--) stack.push([c.replies[i], sub, level + 1, c]);
        }
      }
    };
    // Answers from the network's blogs and Webmentions, worded as on the service's thread page.
    const VERBS = { reply: "a répondu", like: "a aimé", repost: "a partagé", bookmark: "a mis en favori" };
    const section = (id, label, items, entry) => (items && items.length ? h("section", { "aria-labelledby": id },
      h("h3", { id }, label), h("ol", { class: "comment-list comments-" + id.slice(3) }, ...items.map(entry))) : "");
    const crosslinks = () => links.replaceChildren(
      section("cf-answers", "Réponses des confrères", doc.answers, (x) => {
        const a = x.author || {};
        return h("li", { class: "comment answer" }, h("article", { class: "comment-body" },
          h("header", { class: "comment-meta" }, name(a, "comment-author"), badge(a.badge), x.published && stamp(x.published)),
          h("p", {}, a.name + " a répondu sur son blog : ", h("a", { href: http(x.url) }, `« ${x.title || x.url} »`),
            x.site_title && " — ", x.site_title && h("cite", {}, x.site_title)),
          x.excerpt && h("p", { class: "excerpt" }, x.excerpt)));
      }),
      section("cf-mentions", "Mentions", doc.mentions, (x) => h("li", { id: "mention-" + x.id, class: "comment mention" },
        h("article", { class: "comment-body" },
          h("header", { class: "comment-meta" }, name(x.author || {}, "comment-author"), stamp(x.published || x.received)),
          h("p", {}, (VERBS[x.type] || "a mentionné ce billet") + " sur ",
            h("a", { href: http(x.url), rel: "nofollow ugc noopener" }, x.title ? `« ${x.title} »` : x.url)),
          x.html && rich(x.html, "comment-text")))));
    let top = null;
    const more = btn("", null, async () => {
      more.disabled = true;
      try {
        const r = await page(next, nextSkip), fresh = r.comments.filter((c) => !nodes.has(c.id)), first = fresh[0];
        doc.comments.push(...fresh); // (one posted here since is shown already)
        const frag = d.createDocumentFragment();
        walk(fresh, frag);
        top.append(frag);
        if (first) focusOn("#comment-" + first.id);
      } catch (e) {
        say(e.message);
      } finally {
        more.disabled = false;
        moreShown();
      }
    }, "secondary cf-more");
    const moreP = h("p", { class: "comments-more" }, more);
    const moreShown = () => {
      more.textContent = `Afficher plus de commentaires (${doc.total - seen})`;
      if (next === null) moreP.remove();
      else if (!moreP.isConnected) list.append(moreP);
    };
    const render = () => {
      const active = form.contains(d.activeElement) && d.activeElement;
      top = h("ol", { class: "comment-list", "data-depth": 1 });
      nodes = new Map();
      const frag = d.createDocumentFragment();
      walk(doc.comments, frag);
      top.append(frag);
      list.replaceChildren(doc.comments.length ? top : h("p", { class: "comments-empty" }, "Aucun commentaire pour l'instant."));
      moreShown();
      crosslinks();
      if (built && doc.answers) built.hidden = true;
      place();
      if (active) active.focus();
      tick();
    };
    // Every minute, the time left to edit; when a window closes, "Modifier"/"Supprimer" go.
    const tick = () => {
      clearTimeout(timer);
      const next = Math.min(...[...Object.values(mine), ...Object.values(ours)].filter(isOpen).map((m) => m.e));
      if (next < Infinity) {
        timer = setTimeout(() => {
          if (Date.now() >= next) return render();
          for (const e of list.querySelectorAll("[data-until]")) e.textContent = left(+e.dataset.until);
          tick();
        }, Math.min(next - Date.now() + 100, MIN));
      }
    };

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      for (const k in fields) setError(fields[k], "");
      formErr.hidden = true;
      submit.disabled = true;
      form.setAttribute("aria-busy", "true");
      const body = { url, parent: replyTo, text: text.value, author: acct ? acct.display_name || author.value : author.value,
        email: acct ? acct.email : email.value, website: website.value, notify: notify.checked, confreres_hp: hp.value };
      try {
        const r = await call(api + "comments", "POST", body, auth());
        const c = r.comment;
        if (c) {
          mine[c.id] = { t: r.edit_token, u: url, e: Date.parse(r.editable_until) || Date.now() + 14 * MIN };
          storage.set(mine);
          c.replies = c.replies || [];
          const at = replyTo && nodes.get(replyTo);
          if (!at) doc.comments.push(c);
          else if (at.level < depth) at.c.replies.push(c);
          else { // at the last level shown
            c.in_reply_to = { id: at.c.id, name: at.c.author.name };
            (at.up ? at.up.replies : doc.comments).push(c);
          }
          doc.total += 1;
          seen += 1;
        }
        text.value = "";
        resetReply();
        render();
        say(r.message);
        if (c) focusOn("#comment-" + c.id);
      } catch (e) {
        const el = fields[e.field === "notify" ? "email" : e.field];
        if (e.code === "not_signed_in") out("Votre session a expiré : reconnectez-vous. Votre texte est conservé.");
        else if (e.code === "confreres_only") {
          mode = "confreres";
          await who();
          sync();
          say(e.message);
        } else if (el && !el.closest("[hidden]")) {
          setError(el, e.message);
          el.focus();
        } else {
          formErr.textContent = e.message;
          formErr.hidden = false;
        }
      } finally {
        submit.disabled = false;
        form.removeAttribute("aria-busy");
      }
    });

    const notices = root.querySelectorAll(".comments-notice");
    if (mode === "confreres") for (const e of notices) e.hidden = true; // the widget's explanation replaces it
    else if (mode === "closed" && !notices.length) home.append(h("p", { class: "comments-notice" }, "Les commentaires sont fermés."));
    for (const e of root.querySelectorAll(".comments-snapshot, .comments-nojs, .comments-reminder")) e.hidden = true;
    app.replaceChildren(status, list, links, home);
    app.hidden = false;
    sync();
    if (back) {
      say(acct ? "Vous êtes connecté·e." : "Ce lien de connexion n'est plus valable : demandez-en un nouveau.");
      heading.focus();
    }
  };

  const root = d.getElementById("commentaires");
  counts(d.body.dataset.commentsApi || (root && root.dataset.api) || "");
  if (root && root.dataset.threadUrl && /^https?:\/\//.test(root.dataset.api || "")) thread(root);
})();
