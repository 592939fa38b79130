// Small helpers shared by the views: element building (text only, never HTML strings), times, fetch.

/** Build an element: h("a", {href: "#/"}, "text", child, ...). Attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** "1:02:03" or "2:03" for a number of seconds. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds ?? 0));
  const hh = Math.floor(s / 3600), mm = Math.floor(s / 60) % 60, ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** An error from the API, with its HTTP status and the server's sentence. */
export class ApiError extends Error {
  constructor(status, detail, code) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

/** GET (or send) JSON; throws ApiError with the server's "detail" for non-2xx answers. */
export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {headers: {Accept: "application/json"}, ...options});
  } catch (err) {
    throw new ApiError(0, "The server cannot be reached. Check the connection and try again.", "network");
  }
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : `The server answered ${response.status}.`;
    throw new ApiError(response.status, detail, body?.code ?? "http_error");
  }
  return body;
}

/** "S01E02 · Title" for an episode-like object. */
export function episodeLabel(e) {
  const code = e.code ?? e.episode_code ?? `S${String(e.season).padStart(2, "0")}E${String(e.number ?? e.episode_number).padStart(2, "0")}`;
  const title = e.title ?? e.episode_title;
  return title ? `${code} · ${title}` : code;
}
