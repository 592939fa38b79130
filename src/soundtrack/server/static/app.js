// The single-page app: hash routes → views, the search box, and the "What's playing?" panel.
import {h} from "./dom.js";
import {setUpListen} from "./listen.js";
import {episodeView, recordingView, recordingsView, searchView, showView, showsView} from "./views.js";

const ROUTES = [
  [/^\/?$/, showsView],
  [/^\/shows\/(\d+)$/, showView],
  [/^\/episodes\/(\d+)$/, episodeView],
  [/^\/recordings$/, recordingsView],
  [/^\/recordings\/(\d+)$/, recordingView],
  [/^\/search$/, searchView],
];

let rendering = 0;

async function route() {
  const view = document.getElementById("view");
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const ticket = ++rendering;
  document.title = "soundtrack";
  view.setAttribute("aria-busy", "true");
  let nodes;
  try {
    const found = ROUTES.map(([re, fn]) => [path.match(re), fn]).find(([m]) => m);
    nodes = found ? await found[1](params, ...found[0].slice(1)) : h("p", {}, "There is no such page.");
  } catch (err) {
    nodes = h("p", {class: "error", role: "alert"}, err.status === 404 ? `Not found: ${err.message}` : err.message);
  }
  if (ticket !== rendering) return; // a later navigation won
  view.replaceChildren(...[nodes].flat(3).filter(Boolean));
  view.removeAttribute("aria-busy");
  view.dataset.route = path || "/";
  if (path.startsWith("/search")) document.getElementById("search-input").value = params.get("q") || "";
}

function start() {
  document.getElementById("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("search-input").value.trim();
    if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
  });
  setUpListen(document.getElementById("listen-button"), document.getElementById("listen-status"),
              document.getElementById("listen-result"));
  window.addEventListener("hashchange", route);
  route();
}

start();
