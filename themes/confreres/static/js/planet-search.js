// Confrères — search across every blog of the network, on the planet's /recherche/ page.
// Uses Pagefind's JS API shipped with the index (/pagefind/pagefind.js, built by `confreres build`):
// no CDN, no server. Results are grouped by blog (the index's "blog" filter and metadata).
const form = document.getElementById("planet-search");
const input = document.getElementById("planet-search-q");
const statusLine = document.getElementById("planet-search-status");
const output = document.getElementById("planet-search-results");
const MAX_RESULTS = 60;
let engine = null;
let pending = 0;

function say(text) {
  statusLine.textContent = text;
}

async function loadEngine() {
  if (!engine) {
    engine = await import(form.dataset.pagefind);
    await engine.options({ excerptLength: 24 });
  }
  return engine;
}

// Pagefind's excerpt is HTML with <mark>: keep the text and the marks only, nothing else.
function excerptNodes(html) {
  const doc = new DOMParser().parseFromString(`<p>${html || ""}</p>`, "text/html");
  const fragment = document.createDocumentFragment();
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) fragment.appendChild(document.createTextNode(child.textContent));
      else if (child.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = child.textContent;
        fragment.appendChild(mark);
      } else walk(child);
    }
  };
  walk(doc.body);
  return fragment;
}

function safeHref(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : "#";
  } catch {
    return "#";
  }
}

function plural(n, word) {
  return `${n} ${word}${n > 1 ? "s" : ""}`;
}

function render(query, items) {
  output.replaceChildren();
  if (!items.length) {
    say(`Aucun résultat pour « ${query} ».`);
    return;
  }
  const groups = new Map();
  for (const item of items) {
    const blog = (item.meta && item.meta.blog) || (item.filters && item.filters.blog && item.filters.blog[0]) || "Autres pages";
    if (!groups.has(blog)) groups.set(blog, []);
    groups.get(blog).push(item);
  }
  say(`${plural(items.length, "résultat")} dans ${plural(groups.size, "blog")} pour « ${query} ».`);
  let index = 0;
  for (const [blog, list] of groups) {
    index += 1;
    const section = document.createElement("section");
    section.className = "planet-search-group";
    section.setAttribute("aria-labelledby", `resultats-${index}`);
    const heading = document.createElement("h2");
    heading.id = `resultats-${index}`;
    heading.textContent = `${blog} (${list.length})`;
    section.appendChild(heading);
    const ol = document.createElement("ol");
    ol.className = "planet-search-list";
    for (const item of list) {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = safeHref((item.meta && item.meta.url) || item.url);
      link.textContent = (item.meta && item.meta.title) || item.url;
      const title = document.createElement("h3");
      title.appendChild(link);
      li.appendChild(title);
      if (item.meta && (item.meta.author || item.meta.date)) {
        const meta = document.createElement("p");
        meta.className = "post-meta";
        meta.textContent = [item.meta.author, item.meta.date].filter(Boolean).join(" · ");
        li.appendChild(meta);
      }
      const excerpt = document.createElement("p");
      excerpt.className = "summary-text";
      excerpt.appendChild(excerptNodes(item.excerpt));
      li.appendChild(excerpt);
      ol.appendChild(li);
    }
    section.appendChild(ol);
    output.appendChild(section);
  }
}

async function run(query) {
  const ticket = ++pending;
  query = query.trim();
  if (!query) {
    output.replaceChildren();
    say("");
    return;
  }
  say("Recherche…");
  try {
    const pagefind = await loadEngine();
    const search = await pagefind.search(query);
    if (!search || ticket !== pending) return;
    const items = await Promise.all(search.results.slice(0, MAX_RESULTS).map((r) => r.data()));
    if (ticket !== pending) return;
    render(query, items);
  } catch (error) {
    say("La recherche n'est pas disponible pour le moment (index absent).");
    console.error(error);
  }
}

if (form && input && output) {
  let timer = null;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(window.location.href);
    url.searchParams.set("q", input.value);
    history.replaceState(null, "", url);
    run(input.value);
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(input.value), 250);
  });
  const initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
}
