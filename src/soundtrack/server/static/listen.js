// "What's playing?": record a few seconds from the microphone, identify them, show the song,
// the scenes that use it, and the lyric line now playing (advanced by a timer).
import {api, ApiError, clock, h} from "./dom.js";
import {appearancesList} from "./views.js";

const RECORD_S = Number(new URLSearchParams(location.search).get("listen_s")) || 7;
const LAST_LINE_S = 10;
const TYPES = [["audio/webm;codecs=opus", "webm"], ["audio/ogg;codecs=opus", "ogg"], ["audio/mp4", "m4a"],
               ["audio/webm", "webm"], ["audio/ogg", "ogg"]];

export function setUpListen(button, status, result) {
  let lyricTimer = null;
  const say = (text, kind = "") => { status.textContent = text; status.className = `listen-status ${kind}`; };

  button.addEventListener("click", async () => {
    clearInterval(lyricTimer);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    result.hidden = true;
    try {
      const {blob, ext, stoppedAt} = await record(say);
      say("Identifying…");
      const form = new FormData();
      form.append("clip", blob, `clip.${ext}`);
      const answer = await api("/api/identify", {method: "POST", body: form});
      if (!answer.matched) {
        say("No match: this song is not in the library, or it was too quiet. Try again closer to the sound.", "warn");
        return;
      }
      say("Found it.");
      lyricTimer = showMatch(result, answer, stoppedAt);
    } catch (err) {
      say(message(err), "error");
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
}

async function record(say) {
  if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === "undefined") {
    throw new ListenError("This browser cannot record from a microphone here (it needs a recent browser and a secure https:// page).");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(
      {audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  } catch (err) {
    if (err.name === "NotAllowedError" || err.name === "SecurityError") {
      throw new ListenError("Microphone permission was denied. Allow the microphone for this site and try again.");
    }
    if (err.name === "NotFoundError" || err.name === "OverconstrainedError" || err.name === "NotReadableError") {
      throw new ListenError("No microphone was found (or another app is using it).");
    }
    throw new ListenError(`The microphone could not be opened (${err.name || err}).`);
  }
  const [mimeType, ext] = TYPES.find(([type]) => MediaRecorder.isTypeSupported(type)) ?? ["", "webm"];
  const recorder = new MediaRecorder(stream, mimeType ? {mimeType} : {});
  const chunks = [];
  recorder.addEventListener("dataavailable", (e) => { if (e.data.size) chunks.push(e.data); });
  const stopped = new Promise((resolve, reject) => {
    recorder.addEventListener("stop", resolve);
    recorder.addEventListener("error", (e) => reject(new ListenError(`Recording failed (${e.error?.name ?? "error"}).`)));
  });
  recorder.start();
  const started = performance.now();
  for (let left = RECORD_S; left > 0; left--) {
    say(`Listening… ${left} s`);
    await new Promise((r) => setTimeout(r, Math.min(1000, RECORD_S * 1000 - (performance.now() - started))));
  }
  recorder.stop();
  await stopped;
  const stoppedAt = performance.now();
  stream.getTracks().forEach((t) => t.stop());
  const blob = new Blob(chunks, {type: recorder.mimeType || mimeType || "audio/webm"});
  if (!blob.size) throw new ListenError("Nothing was recorded: is the microphone muted?");
  return {blob, ext: extensionOf(recorder.mimeType) ?? ext, stoppedAt};
}

function showMatch(result, answer, stoppedAt) {
  const m = answer.match;
  const lyric = h("p", {class: "lyric", id: "lyric-line", "aria-live": "off"});
  const next = h("p", {class: "lyric-next", id: "lyric-next"});
  result.replaceChildren(...[
    h("p", {class: "match-title", id: "match-title"}, h("a", {href: `#/recordings/${m.recording_id}`}, m.title)),
    h("p", {class: "match-artist", id: "match-artist"}, [m.artist, m.album].filter(Boolean).join(" · ") || "Unknown artist"),
    h("p", {class: "muted"}, `At ${clock(answer.position_s)} in the song · confidence ${Math.round(m.confidence * 100)} %`),
    answer.lyric || answer.lyrics_ahead.length ? [lyric, next] : null,
    answer.appearances.length
      ? [h("h3", {}, "Scenes with this song"), appearancesList(answer.appearances)]
      : h("p", {class: "muted"}, "Not in any episode of the catalog yet."),
  ].flat().filter(Boolean));
  result.hidden = false;
  const lines = [answer.lyric, ...answer.lyrics_ahead].filter(Boolean);
  if (!lines.length) return null;
  // the song went on since the recording stopped: advance the position with the clock
  const positionNow = () => answer.position_s + ((performance.now() - stoppedAt) / 1000) * (m.speed || 1);
  const tick = () => {
    const pos = positionNow();
    const i = lines.findLastIndex((l) => l.start_s <= pos);
    const current = i >= 0 ? lines[i] : null;
    // after the last line we know of (shown for 10 s when its end is not known), stop
    const ended = i === lines.length - 1 && pos >= (current.next_start_s ?? current.start_s + LAST_LINE_S);
    lyric.textContent = current && !ended ? (current.text || "♪") : "♪";
    next.textContent = lines[i + 1] ? `Next: ${lines[i + 1].text || "♪"}` : "";
    return !ended;
  };
  tick();
  const timer = setInterval(() => { if (!tick()) clearInterval(timer); }, 250);
  return timer;
}

function extensionOf(type) {
  const found = TYPES.find(([t]) => type && type.startsWith(t.split(";")[0]));
  return found ? found[1] : null;
}

class ListenError extends Error {}

function message(err) {
  if (err instanceof ListenError) return err.message;
  if (err instanceof ApiError) {
    if (err.status === 0) return err.message;
    if (err.status >= 500) return `The server had a problem (${err.status}). Try again in a moment.`;
    return `The clip could not be identified: ${err.message}`;
  }
  return `Something went wrong: ${err.message ?? err}`;
}
