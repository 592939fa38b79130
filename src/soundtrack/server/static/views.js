// The pages of the catalog. Each view takes route parameters and returns the nodes of <main>.
import {api, clock, episodeLabel, h} from "./dom.js";

const PAGE = 25;

function pager(page, makeHash) {
  const {offset, limit, total} = page;
  if (total <= limit) return null;
  const last = Math.min(offset + limit, total);
  return h("nav", {class: "pager", "aria-label": "Pages"},
    offset > 0 ? h("a", {href: makeHash(Math.max(0, offset - limit)), rel: "prev"}, "← Previous") : null,
    h("span", {class: "muted"}, `${offset + 1}–${last} of ${total}`),
    last < total ? h("a", {href: makeHash(offset + limit), rel: "next"}, "Next →") : null);
}

function songLink(rec) {
  return h("a", {href: `#/recordings/${rec.id}`, class: "song"}, rec.title);
}

export async function showsView(params) {
  const offset = Number(params.get("offset") || 0);
  const q = params.get("q") || "";
  const page = await api(`/api/shows?offset=${offset}&limit=${PAGE}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  const hash = (o) => `#/?offset=${o}${q ? `&q=${encodeURIComponent(q)}` : ""}`;
  return [
    h("h1", {}, "Shows"),
    page.items.length
      ? h("ul", {class: "list", id: "shows"}, page.items.map((s) => h("li", {},
          h("a", {href: `#/shows/${s.id}`}, s.title),
          s.description ? h("div", {class: "muted"}, s.description) : null)))
      : h("p", {class: "muted"}, "No shows yet. Add one through the API (POST /api/shows) or the command line."),
    pager(page, hash),
  ];
}

export async function showView(params, id) {
  const show = await api(`/api/shows/${id}`);
  document.title = `${show.title} · soundtrack`;
  return [
    h("div", {class: "crumbs"}, h("a", {href: "#/"}, "Shows")),
    h("h1", {}, show.title),
    show.description ? h("p", {}, show.description) : null,
    show.seasons.length ? null : h("p", {class: "muted"}, "No episodes yet."),
    show.seasons.map((season) => h("section", {"aria-labelledby": `season-${season.number}`},
      h("h2", {id: `season-${season.number}`}, season.number ? `Season ${season.number}` : "Specials"),
      h("div", {class: "links"}, "Season playlist:",
        h("a", {href: `/api/shows/${show.id}/seasons/${season.number}/playlist.m3u`, download: ""}, "M3U"),
        h("a", {href: `/api/shows/${show.id}/seasons/${season.number}/playlist.xspf`, download: ""}, "XSPF")),
      h("ul", {class: "list"}, season.episodes.map((e) => h("li", {},
        h("a", {href: `#/episodes/${e.id}`}, episodeLabel(e)),
        h("span", {class: "muted"}, ` — ${e.n_cues} song${e.n_cues === 1 ? "" : "s"}`)))))),
  ];
}

export async function episodeView(params, id) {
  const ep = await api(`/api/episodes/${id}`);
  document.title = `${ep.show_title} ${ep.code} · soundtrack`;
  const rows = ep.cues.map((c) => h("tr", {class: "cue", "data-recording-id": c.recording.id},
    h("td", {class: "num"}, c.number),
    h("td", {class: "time", "data-label": "Time"}, `${clock(c.episode_start_s)}–${clock(c.episode_end_s)}`),
    h("td", {"data-label": "Song"}, songLink(c.recording),
      c.recording.artist ? h("div", {class: "muted"}, c.recording.artist) : null),
    h("td", {"data-label": "Usage"}, h("span", {class: "tag", title: usageName(c.usage)}, c.usage),
      c.confirmed ? h("span", {class: "tag ok"}, " confirmed") : null),
    h("td", {"data-label": "Scene"}, c.scene_note || h("span", {class: "muted"}, "—"))));
  return [
    h("div", {class: "crumbs"}, h("a", {href: "#/"}, "Shows"), " › ",
      h("a", {href: `#/shows/${ep.show_id}`}, ep.show_title), ` › Season ${ep.season}`),
    h("h1", {}, `${ep.show_title}: ${episodeLabel(ep)}`),
    h("div", {class: "links"}, "Playlist:",
      h("a", {href: `/api/episodes/${ep.id}/playlist.m3u`, download: ""}, "M3U"),
      h("a", {href: `/api/episodes/${ep.id}/playlist.xspf`, download: ""}, "XSPF")),
    h("h2", {}, `Songs (${ep.cues.length})`),
    ep.cues.length
      ? h("table", {class: "cues", id: "cues"},
          h("caption", {class: "visually-hidden"}, "Songs in the order they play"),
          h("thead", {}, h("tr", {}, ["#", "Time", "Song", "Usage", "Scene"].map((t) => h("th", {scope: "col"}, t)))),
          h("tbody", {}, rows))
      : h("p", {class: "muted"}, "No songs found in this episode yet."),
    ep.timeline_url ? [h("h2", {}, "Timeline"),
      h("img", {class: "timeline", src: ep.timeline_url, alt: `Timeline of the songs in ${ep.code}`})] : null,
  ];
}

export async function recordingsView(params) {
  const offset = Number(params.get("offset") || 0);
  const page = await api(`/api/recordings?offset=${offset}&limit=${PAGE}`);
  return [
    h("h1", {}, "Songs"),
    h("ul", {class: "list", id: "recordings"}, page.items.map((r) => h("li", {}, songLink(r),
      r.artist ? h("span", {class: "muted"}, ` — ${r.artist}`) : null,
      h("span", {class: "muted"}, ` · ${r.appearances?.length ?? 0} scene${r.appearances?.length === 1 ? "" : "s"}`)))),
    pager(page, (o) => `#/recordings?offset=${o}`),
  ];
}

export async function recordingView(params, id) {
  const rec = await api(`/api/recordings/${id}`);
  document.title = `${rec.title} · soundtrack`;
  return [
    h("div", {class: "crumbs"}, h("a", {href: "#/recordings"}, "Songs")),
    h("h1", {}, rec.title),
    h("p", {class: "muted"}, [rec.artist, rec.album].filter(Boolean).join(" · ") || "Unknown artist",
      rec.explicit ? h("span", {class: "tag"}, " explicit") : null),
    h("h2", {}, `Where it plays (${rec.appearances.length})`),
    rec.appearances.length ? appearancesList(rec.appearances) : h("p", {class: "muted"}, "Not in any episode yet."),
  ];
}

export function appearancesList(appearances) {
  return h("ul", {class: "list appearances"}, appearances.map((a) => h("li", {},
    h("a", {href: `#/episodes/${a.episode_id}`}, `${a.show_title} ${episodeLabel(a)}`),
    h("span", {class: "time"}, ` at ${clock(a.episode_start_s)}`),
    a.scene_note ? h("div", {}, a.scene_note) : null)));
}

export async function searchView(params) {
  const q = params.get("q") || "";
  const offset = Number(params.get("offset") || 0);
  if (!q) return h("p", {}, "Type something to search for.");
  const page = await api(`/api/search?q=${encodeURIComponent(q)}&offset=${offset}&limit=${PAGE}`);
  document.title = `${q} · search · soundtrack`;
  return [
    h("h1", {}, `Search: ${q}`),
    page.items.length
      ? h("ul", {class: "list", id: "results"}, page.items.map((hit) => h("li", {class: "hit"},
          h("span", {class: "tag"}, hit.kind), " ", h("a", {href: hitHash(hit)}, hit.title),
          hit.subtitle ? h("div", {class: "muted"}, hit.subtitle) : null)))
      : h("p", {class: "muted", id: "no-results"}, `Nothing matches “${q}”.`),
    pager(page, (o) => `#/search?q=${encodeURIComponent(q)}&offset=${o}`),
  ];
}

function hitHash(hit) {
  if (hit.kind === "show") return `#/shows/${hit.id}`;
  if (hit.kind === "episode" || hit.kind === "scene") return `#/episodes/${hit.episode_id ?? hit.id}`;
  if (hit.recording_id !== null && hit.recording_id !== undefined) return `#/recordings/${hit.recording_id}`;
  return `#/search?q=${encodeURIComponent(hit.title)}`;
}

const USAGE = {BI: "background instrumental", BV: "background vocal", FI: "featured instrumental",
               FV: "featured vocal", VI: "visual instrumental",
               VV: "visual vocal", MT: "main title", ET: "end title"};
function usageName(code) { return USAGE[code] ?? code; }
