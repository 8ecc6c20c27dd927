/* Confrères: medical secrecy as one types a comment. comments.js imports this module on each keystroke in the
   comment textarea (`text.oninput`: a dynamic import, fetched once, on the first one; a page where no one types
   never loads it). It asks POST <api>secrecy-check (the widget's #commentaires[data-api]) with the text,
   debounced, and shows the service's French warning in an aria-live region under the textarea: a comment that
   could identify a patient (phone, e-mail, social security number, date of birth, a patient's name) waits for
   a moderator whatever the blog's policy. The rules live on the server only (confreres/secrecy.py).
   Untrusted strings go through textContent only. */
const WAIT = 400; // ms after the last keystroke
const MAX = 10000; // the service's longest comment

export default function attach(event) { // the textarea's input event (comments.js: one line, in its budget)
  const text = event.target;
  if (text.dataset.secrecy) return; // called on every keystroke: once is enough
  text.dataset.secrecy = "1";
  const api = text.closest("[data-api]").dataset.api;
  const out = document.createElement("p");
  out.id = text.id + "-secret";
  out.className = "secrecy-warning";
  out.setAttribute("aria-live", "polite"); // always in the page, empty when silent: a region shown only when it
  text.parentNode.after(out); // speaks is not announced by every screen reader
  let timer = 0, pending = null;
  const show = (msg) => {
    if (out.textContent !== msg) out.textContent = msg;
    // the textarea is described by the warning while it shows (comments.js `describe` keeps it: dataset.secret)
    text.dataset.secret = msg ? out.id : "";
    const ids = (text.getAttribute("aria-describedby") || "").split(" ").filter((i) => i && i !== out.id);
    if (msg) ids.push(out.id);
    if (ids.length) text.setAttribute("aria-describedby", ids.join(" "));
    else text.removeAttribute("aria-describedby");
  };
  const check = async () => {
    const value = text.value.slice(0, MAX);
    if (pending) pending.abort();
    if (!value.trim()) return show("");
    pending = new AbortController();
    try {
      const r = await fetch(api + "secrecy-check", {
        method: "POST", mode: "cors", credentials: "omit", signal: pending.signal,
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: value }),
      });
      if (r.ok) show((await r.json()).message || "");
    } catch (e) { /* offline, aborted or limited: the server checks again on submit */ }
  };
  text.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, WAIT);
  });
  if (text.form) text.form.addEventListener("submit", () => { clearTimeout(timer); show(""); });
  check();
}
