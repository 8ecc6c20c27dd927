/* Confrères comment widget, second part: what a reader asks for, imported by comments.js on demand (an ES module
   from the theme's js/ folder, as the Content-Security-Policy allows): signing in and out, the account line,
   « entre confrères » threads, the reader's own comments (the edit window, « Modifier », « Supprimer ») and
   « Signaler ». comments.js loads it at once for a signed-in reader, an « entre confrères » thread, or a
   comment of this reader's still editable here. Each export takes the thread's state `t` (see comments.js).
   Sign-in: POST <api>auth/request with this page as `return` (plus ?confreres-signin=<random state>, kept in
   localStorage["confreres.signin"]); the mailed link comes back with #confreres-session=<token>, which comments.js
   keeps in localStorage["confreres.session"] only when the state is one this browser asked for; it is sent as
   `Authorization: Bearer` on writes and GET <api>account only (thread reads stay cacheable). Signed in,
   GET <api>account/comments?url= names the member's own comments here, so « Modifier » / « Supprimer » work
   with the session on a device that holds no edit token for them. The Markdown to edit comes from
   GET <api>comments/<id> (its owner only): none is kept in the browser. Untrusted text only as text. */
let K; // comments.js's kit: h, field, btn, call, say, render, sync, storage…

export const setup = (kit) => { K = kit; };

const MIN = 6e4;
const pl = (n, w) => `${n} ${w}${n > 1 ? "s" : ""}`;
const left = (e) => "Modifiable encore " + pl(Math.max(1, Math.ceil((e - Date.now()) / MIN)), "minute");

// Who is signed in (GET <api>account), and which of this thread's comments are theirs.
export const who = async (t) => {
  t.acct = null;
  t.ours = {};
  if (!t.tok) return;
  try {
    const [a, o] = await Promise.all([K.call(t.api + "account", "GET", null, K.auth(t)),
      K.call(t.api + "account/comments?url=" + encodeURIComponent(t.url), "GET", null, K.auth(t)).catch(() => null)]);
    t.acct = a.account;
    for (const c of (o && o.comments) || []) t.ours[c.id] = { e: Date.parse(c.editable_until) || 0 };
  } catch (e) {
    if (e.code === "not_signed_in") t.tok = "", K.session.set("");
  }
};

// Signed out (by the reader, or the session expired): the guest's fields come back.
const out = (t, msg) => {
  t.tok = "";
  K.session.set("");
  t.acct = null;
  t.ours = {};
  K.sync(t);
  K.say(t, msg);
};

// A post refused: the session ended, or the thread is « entre confrères » after all.
export const refused = async (t, e) => {
  if (e.code === "not_signed_in") return out(t, "Votre session a expiré : reconnectez-vous. Votre texte est conservé.");
  t.mode = "confreres";
  await who(t);
  K.sync(t);
  K.say(t, e.message);
};

export const signin = (t) => {
  const { h, field, btn } = K;
  const [mail, p] = field("signin-email", ["Votre adresse e-mail"], "input",
    { type: "email", autocomplete: "email", required: true },
    "Nous vous envoyons un lien de connexion : ouvrez-le pour revenir sur cette page, connecté·e.");
  const f = h("form", { class: "comments-form comments-signin", novalidate: true, "aria-label": "Connexion" }, p,
    h("p", { class: "form-actions" }, h("button", { type: "submit" }, "Recevoir le lien de connexion"), " ",
      btn("Annuler", null, () => { K.sync(t); K.focusOn(".cf-signin"); }, "secondary")));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      // A random state in the return address, kept here: only a link asked for from this browser signs in here.
      const state = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
      const back = new URL(location.href.split("#")[0]);
      back.searchParams.set("confreres-signin", state);
      K.asked.set([...[].concat(K.asked.get()), state].slice(-5)); // the last few links asked for (a second mail must work too)
      await K.call(t.api + "auth/request", "POST", { email: mail.value, return: back.href });
      t.sent = `Un lien de connexion vous a été envoyé à ${mail.value.trim()}. Ouvrez-le dans ce navigateur ` +
        "pour revenir ici connecté·e.";
      K.sync(t);
      K.say(t, t.sent);
      K.focusOn(".comments-sent");
    } catch (e) {
      K.setError(mail, e.message);
      mail.focus();
    }
  });
  t.bar.replaceChildren(f);
  mail.focus();
};

const signout = async (t) => {
  try {
    await K.call(t.api + "auth/signout", "POST", null, K.auth(t));
  } catch (e) {
    if (e.code !== "not_signed_in") return K.say(t, e.message);
  }
  // Leaving a shared computer (a hospital's): whoever sits down next must not edit, delete or see waiting the
  // comments written here; this browser's edit tokens go with the session.
  t.mine = {};
  K.storage.set({});
  try { await K.load(t); } catch (e) { /* the thread as it was; reloaded on the next visit */ }
  out(t, "Vous êtes déconnecté·e.");
  K.focusOn(".cf-signin");
};

// The account line (« Connecté·e » or « Se connecter »), the « entre confrères » next step, the form's fields.
export const bar = (t) => {
  const { h, btn, badge } = K, acct = t.acct, svc = t.svc;
  const ask = h("p", {}, btn("Se connecter", " par un lien envoyé par e-mail", () => signin(t), "cf-signin"));
  t.bar.hidden = t.mode === "closed" && !acct;
  t.bar.replaceChildren(h("div", {}, acct
    ? h("p", {}, acct.display_name
      ? ["Connecté·e : ", h("strong", {}, acct.display_name), " ", badge(acct.badge), " ",
        h("a", { href: svc + "account" }, "Mon profil")]
      : ["Connecté·e — choisissez un nom sur ", h("a", { href: svc + "account" }, "votre compte"), " ",
        badge(acct.badge)], " ", btn("Se déconnecter", null, () => signout(t), "secondary cf-signout"))
    : [t.sent && h("p", { class: "comments-sent", tabindex: -1 }, t.sent), ask]));
  const v = t.root.dataset.verifyUrl || svc + "verification";
  t.explain.hidden = t.mode !== "confreres";
  t.explain.replaceChildren(h("p", {}, "Fil entre confrères : lisible par tous ; seuls les médecins vérifiés " +
    "peuvent y répondre."), K.canWrite(t) ? "" : h("p", {}, acct
    ? ["Vous êtes connecté·e, mais votre inscription de médecin n'est pas encore vérifiée. ",
      h("a", { href: v }, "Faire vérifier mon inscription"), " : votre numéro RPPS, puis une connexion " +
      "Pro Santé Connect ou le parrainage de deux confrères vérifiés."]
    : "Vous êtes médecin ? Connectez-vous (lien par e-mail), puis faites vérifier votre inscription : votre " +
      "numéro RPPS, puis une connexion Pro Santé Connect ou le parrainage de deux confrères vérifiés."));
  t.authorP.hidden = !!(acct && acct.display_name);
  t.emailP.hidden = !!acct;
};

// On the reader's own comment (edit token here, or the account's): « Modifier », « Supprimer », the time left.
export const own = (t, c, art, acts, m) => {
  if (!K.isOpen(m)) return;
  const { btn, h } = K;
  acts.append(btn("Modifier", " votre commentaire", () => edit(t, c, art), "cf-edit"),
    btn("Supprimer", " votre commentaire", () => remove(t, c), "cf-delete"),
    h("span", { class: "comment-window", "data-until": m.e }, left(m.e)));
};

// Every minute, the time left to edit; when a window closes, « Modifier » / « Supprimer » go.
export const tick = (t) => {
  clearTimeout(t.timer);
  const next = Math.min(...[...Object.values(t.mine), ...Object.values(t.ours)].filter(K.isOpen).map((m) => m.e));
  if (next < Infinity) {
    t.timer = setTimeout(() => {
      if (Date.now() >= next) return K.render(t);
      for (const e of t.list.querySelectorAll("[data-until]")) e.textContent = left(+e.dataset.until);
      tick(t);
    }, Math.min(next - Date.now() + 100, MIN));
  }
};

// A small form inside a comment (edit, report): errors next to the field, what was typed kept.
const inline = (t, art, { id, label, value, hint, ok, replace, send, back }) => {
  const { h, field, btn } = K;
  const [ta, p] = field(id, [label], "textarea", { rows: replace ? 6 : 3 }, hint);
  const acts = art.querySelector(".comment-actions");
  ta.value = value || "";
  const f = h("form", { class: "comments-form comments-inline", novalidate: true }, p, h("p", { class: "form-actions" },
    h("button", { type: "submit" }, ok), " ", btn("Annuler", null, () => { K.render(t); K.focusOn(back); }, "secondary")));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await send(ta.value);
    } catch (e) {
      K.setError(ta, e.message);
      ta.focus();
    }
  });
  if (replace) art.querySelector(".comment-text").replaceWith(f);
  else acts.before(f);
  acts.hidden = true;
  ta.focus();
};
const done = (t, c, msg) => {
  K.render(t);
  K.say(t, msg);
  K.focusOn("#comment-" + c.id);
};
const source = (t, m, r) => { // what only the owner gets back: the source, and when editing ends
  m.e = Date.parse(r.editable_until) || m.e;
  K.storage.set(t.mine);
  return r.text;
};
// The proof of ownership: the edit token kept here, else the session (a comment written on another device).
const proof = (t, m) => (m.t ? K.auth(t, { "X-Edit-Token": m.t }) : K.auth(t));

const edit = async (t, c, art) => {
  const m = K.owned(t, c.id), url = t.api + "comments/" + c.id;
  let value;
  try {
    value = source(t, m, await K.call(url, "GET", null, m.t ? { "X-Edit-Token": m.t } : K.auth(t)));
  } catch (e) {
    return K.say(t, e.message);
  }
  if (!K.isOpen(m)) return done(t, c, "Le délai de modification de ce commentaire est dépassé.");
  inline(t, art, { id: "edit-" + c.id, label: "Modifier votre commentaire", value, hint: K.MD, ok: "Enregistrer",
    replace: true, back: `#comment-${c.id} .cf-edit`, send: async (text) => {
      const r = await K.call(url, "PATCH", { text }, proof(t, m));
      c.html = r.comment.html;
      c.edited = r.comment.edited;
      source(t, m, r);
      done(t, c, "Votre commentaire a été modifié.");
    } });
};

const remove = async (t, c) => {
  if (!window.confirm("Supprimer définitivement votre commentaire ?")) return;
  try {
    await K.call(t.api + "comments/" + c.id, "DELETE", null, proof(t, K.owned(t, c.id)));
    delete t.mine[c.id];
    delete t.ours[c.id];
    K.storage.set(t.mine);
    await K.load(t);
    K.render(t);
    K.say(t, "Votre commentaire a été supprimé.");
    t.heading.focus();
  } catch (e) {
    K.say(t, e.message);
  }
};

export const report = (t, c, art) => inline(t, art, { id: "report-" + c.id, label: "Motif du signalement",
  hint: "Secret médical, propos déplacé, publicité, spam… Les modérateurs du réseau le liront.",
  ok: "Envoyer le signalement", back: `#comment-${c.id} .cf-report`, send: async (reason) => {
    await K.call(t.api + "comments/" + c.id + "/report", "POST", { reason });
    done(t, c, "Merci : votre signalement a été transmis à la modération.");
  } });
