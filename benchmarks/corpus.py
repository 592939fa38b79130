"""The public benchmark corpus: free game music from five Debian packages.

The packages are fetched with ``apt-get download`` and unpacked with
``dpkg-deb -x`` into a cache directory; nothing is fetched when the cache
already holds them.  Every audio file found is probed once (results cached in
``probe.json``), music of at least 30 s is kept and split deterministically,
by a hash of its path relative to the unpacked root, into an *indexed* part
(~80 %) and an *unindexed* part (~20 %, never added to a library).  Files whose
header cannot be opened are listed as *corrupt* (bad-input test cases).  Long
files that are mostly silence are left out, and so are tracks whose audio is
contained in a longer track (re-releases, extended versions).

``speech_pool`` renders a pool of short espeak-ng dialogue lines used to
simulate people talking over the music.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import wave
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PACKAGES: tuple[str, ...] = (
    "wesnoth-1.16-music",
    "hyperrogue-music",
    "warzone2100-music",
    "singularity-music",
    "asc-music",
)

AUDIO_EXTENSIONS: frozenset[str] = frozenset({".ogg", ".opus", ".mp3", ".flac", ".wav"})
MIN_MUSIC_S = 30.0  # tracks shorter than this (seconds) are sound effects
AUDIBLE_DBFS = -45.0  # a second of audio quieter than this (RMS, dBFS) counts as silence
ANALYSIS_SR = 8000  # Hz, for the loudness and shared-audio analysis
# Landmark votes on one lag that make two tracks "share audio".  On this corpus
# real sharing scores 540-1620 (menu/menu_enhanced, track3/track3_enhanced,
# track10/track15 of warzone2100), common drum loops between different
# pieces 35-90, unrelated pairs less.
SHARED_MIN_VOTES = 200
INDEXED_PERCENT = 80  # share of kept tracks that go into the library
PROBE_VERSION = 3  # bump to invalidate probe.json after changing the probe


@dataclass(frozen=True)
class Track:
    """One music file of the corpus and its duration in seconds."""

    path: Path
    duration_s: float


@dataclass
class Corpus:
    """The corpus, split into library tracks, held-out tracks and bad files."""

    indexed: list[Track] = field(default_factory=list)
    unindexed: list[Track] = field(default_factory=list)
    corrupt: list[Path] = field(default_factory=list)
    shared: list[Track] = field(default_factory=list)  # audio contained in a kept track

    @property
    def hours(self) -> float:
        """Total duration of the indexed tracks, in hours."""
        return sum(t.duration_s for t in self.indexed) / 3600.0


# --------------------------------------------------------------------------
# Cache layout and package fetching
# --------------------------------------------------------------------------


def cache_dir() -> Path:
    """Benchmark cache: ``$SOUNDTRACK_BENCH_CACHE`` or ``~/.cache/soundtrack-bench``."""
    env = os.environ.get("SOUNDTRACK_BENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "soundtrack-bench"


def packages() -> tuple[str, ...]:
    """The Debian packages the corpus is made of: ``$SOUNDTRACK_BENCH_PACKAGES`` (comma-separated),
    or :data:`PACKAGES`. Music the code was never tuned on goes with a cache of its own
    (``$SOUNDTRACK_BENCH_CACHE``): a cache's corpus is every package ever unpacked into it."""
    env = os.environ.get("SOUNDTRACK_BENCH_PACKAGES", "")
    chosen = tuple(p.strip() for p in env.split(",") if p.strip())
    return chosen or PACKAGES


def _find_deb(debs: Path, package: str) -> Path | None:
    """Return the downloaded .deb of ``package`` in ``debs``, if any."""
    found = sorted(debs.glob(f"{package}_*.deb"))
    return found[-1] if found else None


def _apt_download(package: str, debs: Path) -> None:
    """Run ``apt-get download`` in ``debs``; refresh the lists once on failure."""
    cmd = ["apt-get", "download", package]
    if subprocess.run(cmd, cwd=debs, capture_output=True).returncode == 0:
        return
    if os.geteuid() == 0:  # package lists may be missing on a fresh machine
        subprocess.run(["apt-get", "update"], capture_output=True)
    proc = subprocess.run(cmd, cwd=debs, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"apt-get download {package} failed: {proc.stderr.strip()}")


def fetch_packages(cache: Path) -> Path:
    """Download and unpack every package of :func:`packages`; return the unpacked root.

    A package is unpacked once; a stamp file ``root/.unpacked-<package>``
    records it, so later calls only check for files.
    """
    debs, root = cache / "debs", cache / "root"
    debs.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    for package in packages():
        stamp = root / f".unpacked-{package}"
        if stamp.exists():
            continue
        deb = _find_deb(debs, package)
        if deb is None:
            _apt_download(package, debs)
            deb = _find_deb(debs, package)
            if deb is None:
                raise RuntimeError(f"apt-get download {package} produced no .deb in {debs}")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        stamp.write_text(deb.name + "\n")
    return root


# --------------------------------------------------------------------------
# Probing
# --------------------------------------------------------------------------


def find_audio(root: Path) -> list[Path]:
    """All files under ``root`` with an audio extension, sorted."""
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
    )


def probe_duration(path: Path) -> float:
    """Duration of ``path`` in seconds, from the container header (PyAV).

    Raises ``ValueError`` (or a PyAV error) when the file cannot be opened or
    has no audio stream.  When the container gives no duration, the audio
    stream is decoded to count samples.
    """
    import av  # local import: av is slow to import and not needed for cached runs

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        if container.duration:
            return container.duration / 1_000_000
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        if not stream.rate:
            raise ValueError("no sample rate")
        return samples / stream.rate


def decode_8k(path: Path) -> np.ndarray:
    """Whole file as mono float32 at ``ANALYSIS_SR`` Hz (ffmpeg CLI; empty on failure)."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "1",
           "-ar", str(ANALYSIS_SR), "-f", "f32le", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True).stdout, dtype="<f4")


def audible_seconds(x: np.ndarray, floor_dbfs: float = AUDIBLE_DBFS) -> float:
    """Seconds of ``x`` (at ``ANALYSIS_SR``) whose 1 s RMS is above ``floor_dbfs``."""
    sr = ANALYSIS_SR
    blocks = x[: len(x) // sr * sr].reshape(-1, sr).astype(np.float64)
    level = 10 * np.log10(np.mean(blocks**2, axis=1) + 1e-20)
    return float(np.sum(level >= floor_dbfs))


def _probe_one(path: Path, landmark_file: Path) -> dict:
    """Probe record of one file; for music-length files also decode it fully.

    The full decode gives the decoded and audible seconds and the landmarks
    (saved to ``landmark_file``) used to find audio shared between tracks.
    """
    record: dict = {"key": _file_key(path)}
    try:
        record["duration_s"] = probe_duration(path)
    except Exception as exc:  # noqa: BLE001 - any failure marks the file corrupt
        record["error"] = f"{type(exc).__name__}: {exc}"
        return record
    if record["duration_s"] >= MIN_MUSIC_S:
        x = decode_8k(path)
        record["decoded_s"] = len(x) / ANALYSIS_SR
        record["audible_s"] = audible_seconds(x)
        if record["decoded_s"] < 0.9 * record["duration_s"]:
            record["error"] = f"decodes to {record['decoded_s']:.1f} s of {record['duration_s']:.1f} s"
        else:
            landmark_file.parent.mkdir(parents=True, exist_ok=True)
            np.save(landmark_file, landmarks(x))
    return record


def _file_key(path: Path) -> list[float]:
    """Cheap change detector for the probe cache: [size in bytes, mtime in s]."""
    st = path.stat()
    return [st.st_size, st.st_mtime]


def probe_all(root: Path, files: list[Path], cache_file: Path, workers: int = 2
              ) -> dict[str, dict]:
    """Probe ``files`` (see ``_probe_one``), reusing ``cache_file``; return ``{relpath: record}``.

    A record holds ``key`` ([size, mtime]) and either ``duration_s`` (plus
    ``decoded_s``/``audible_s`` for files of at least ``MIN_MUSIC_S``) or an
    ``error`` message.  Only new or changed files are probed, in ``workers``
    processes (the first run decodes ~8 h of audio: one to two minutes).
    """
    cached: dict[str, dict] = {}
    if cache_file.exists():
        data = json.loads(cache_file.read_text())
        if data.get("version") == PROBE_VERSION:
            cached = data["files"]
    rels = {path: path.relative_to(root).as_posix() for path in files}
    todo = [p for p, rel in rels.items()
            if rel not in cached or cached[rel]["key"] != _file_key(p)]
    marks = [landmark_path(cache_file.parent, rels[p]) for p in todo]
    fresh: dict[Path, dict] = {}
    if todo:
        with ProcessPoolExecutor(workers) as ex:
            fresh = dict(zip(todo, ex.map(_probe_one, todo, marks), strict=True))
    records = {rel: fresh[p] if p in fresh else cached[rel] for p, rel in rels.items()}
    if records != cached:
        _write_json_atomic(cache_file, {"version": PROBE_VERSION, "files": records})
    return records


def _write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)


# --------------------------------------------------------------------------
# Audio shared between tracks
# --------------------------------------------------------------------------


def landmark_path(cache: Path, relpath: str) -> Path:
    """Where the landmarks of the file at ``relpath`` are cached."""
    return cache / "landmarks" / (hashlib.sha256(relpath.encode()).hexdigest()[:20] + ".npy")


def landmarks(x: np.ndarray) -> np.ndarray:
    """Crude landmark hashes of ``x`` (mono, ``ANALYSIS_SR`` Hz): int64 array of (hash, frame).

    Spectral peaks (local maxima over 15 x 15 bins/frames of a 1024-point
    log spectrogram, hop 256 = 32 ms, 62-3125 Hz, 2 above the median) paired
    with their next 5 peaks less than 2 s later; hash = (f1, f2, dt).  Only
    for finding shared audio in the corpus, not a fingerprinter.
    """
    from scipy.ndimage import maximum_filter

    n, hop = 1024, 256
    if len(x) < n:
        return np.zeros((0, 2), np.int64)
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::hop] * np.hanning(n)
    spec = np.log(np.abs(np.fft.rfft(frames))[:, 8:400] + 1e-4)
    peak = (spec == maximum_filter(spec, size=(15, 15))) & (spec > np.median(spec) + 2)
    t, f = np.nonzero(peak)  # sorted by frame
    pairs = []
    for k in range(1, 6):
        dt = t[k:] - t[:-k]
        ok = (dt > 0) & (dt < 64)
        h = (f[:-k][ok].astype(np.int64) << 16) | (f[k:][ok].astype(np.int64) << 6) | dt[ok]
        pairs.append(np.stack([h, t[:-k][ok]], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)


def _matching_pairs(marks: list[np.ndarray], max_group: int = 40) -> np.ndarray:
    """Votes for (track a, track b, frame lag) from equal hashes of different tracks.

    Returns rows (a, b, lag, votes) with a < b; lag = frame in b - frame in a.
    Hashes held more than ``max_group`` times are ignored (too common to tell).
    """
    track = np.concatenate([np.full(len(m), i, np.int64) for i, m in enumerate(marks)])
    allm = np.concatenate(marks)
    order = np.argsort(allm[:, 0], kind="stable")
    h, t, tr = allm[order, 0], allm[order, 1], track[order]
    _, first, size = np.unique(h, return_index=True, return_counts=True)
    rare = np.repeat(size <= max_group, size)
    h, t, tr = h[rare], t[rare], tr[rare]
    lag_bias = 1 << 23  # lags are frames (< 2^23); shifted to stay positive in the key
    keys = []
    for k in range(1, max_group):
        i = np.nonzero(h[k:] == h[:-k])[0]
        if i.size == 0:
            break
        j = i + k
        keep = tr[i] != tr[j]
        i, j = i[keep], j[keep]
        lo, hi = np.minimum(tr[i], tr[j]), np.maximum(tr[i], tr[j])
        lag = np.where(tr[i] < tr[j], t[j] - t[i], t[i] - t[j])
        keys.append((lo << 40) | (hi << 24) | (lag + lag_bias))
    if not keys:
        return np.zeros((0, 4), np.int64)
    uniq, votes = np.unique(np.concatenate(keys), return_counts=True)
    rows = np.stack([uniq >> 40, (uniq >> 24) & 0xFFFF, (uniq & 0xFFFFFF) - lag_bias, votes], axis=1)
    return rows


def _votes_from_files(files: list[Path]) -> np.ndarray:
    """``_matching_pairs`` of the landmark arrays saved in ``files``."""
    return _matching_pairs([np.load(f) for f in files])


def find_shared(cache: Path, rels: list[str]) -> list[dict]:
    """Pairs of tracks (paths relative to the root) that contain the same audio.

    A pair shares audio when at least ``SHARED_MIN_VOTES`` landmarks agree on
    one time lag.  Each result is ``{"a", "b", "votes", "lag_s"}`` (``lag_s``:
    where a's audio sits in b, relative to a).  Cached in ``shared.json``,
    keyed by the track list.
    """
    cache_file = cache / "shared.json"
    key = {"version": PROBE_VERSION, "tracks": sorted(rels)}
    if cache_file.exists():
        data = json.loads(cache_file.read_text())
        if data.get("key") == key:
            return data["pairs"]
    files = [landmark_path(cache, rel) for rel in rels]
    with ProcessPoolExecutor(1) as ex:  # a child process: the vote arrays take ~1 GB
        votes = ex.submit(_votes_from_files, files).result()
    best: dict[tuple[int, int], tuple[int, int]] = {}
    for a, b, lag, n in votes[votes[:, 3] >= SHARED_MIN_VOTES].tolist():
        if n > best.get((a, b), (0, 0))[0]:
            best[(a, b)] = (n, lag)
    pairs = [{"a": rels[a], "b": rels[b], "votes": n, "lag_s": round(lag * 256 / ANALYSIS_SR, 2)}
             for (a, b), (n, lag) in sorted(best.items())]
    _write_json_atomic(cache_file, {"key": key, "pairs": pairs})
    return pairs


def shared_groups(rels: list[str], pairs: list[dict]) -> dict[str, str]:
    """Map each track to its group's representative (itself when it shares nothing).

    Groups are connected components of ``pairs``; the representative is the
    first member in sorted order, so the result is deterministic.
    """
    parent = {rel: rel for rel in rels}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        ra, rb = find(pair["a"]), find(pair["b"])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {rel: find(rel) for rel in rels}


# --------------------------------------------------------------------------
# Split
# --------------------------------------------------------------------------


def split_bucket(relpath: str) -> int:
    """Stable bucket 0..99 of a path relative to the unpacked root."""
    digest = hashlib.sha256(relpath.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100


def is_indexed(relpath: str) -> bool:
    """Whether the track at ``relpath`` belongs to the indexed ~80 %."""
    return split_bucket(relpath) < INDEXED_PERCENT


def build_corpus(cache: Path | None = None) -> Corpus:
    """Fetch, unpack, probe and split the corpus (cached after the first call).

    Music = at least ``MIN_MUSIC_S`` seconds long *and* at least that many
    seconds above ``AUDIBLE_DBFS`` (a jingle padded with silence is not music).
    Files that fail to open, or decode to much less than their header says,
    are ``corrupt``.  Of tracks that contain the same audio (``find_shared``)
    only the longest is kept; the others go to ``shared`` so that no audio is
    both indexed and unindexed, and no clip has two right answers.
    """
    cache = cache or cache_dir()
    root = fetch_packages(cache)
    records = probe_all(root, find_audio(root), cache / "probe.json")
    corpus = Corpus()
    music: dict[str, Track] = {}
    for rel, rec in sorted(records.items()):
        if "error" in rec:
            corpus.corrupt.append(root / rel)
        elif rec["duration_s"] >= MIN_MUSIC_S and rec["audible_s"] >= MIN_MUSIC_S:
            music[rel] = Track(root / rel, float(rec["duration_s"]))
    groups = shared_groups(list(music), find_shared(cache, list(music)))
    keep = _longest_per_group(music, groups)
    for rel, track in music.items():
        if rel not in keep:
            corpus.shared.append(track)
        else:
            (corpus.indexed if is_indexed(rel) else corpus.unindexed).append(track)
    return corpus


def _longest_per_group(music: dict[str, Track], groups: dict[str, str]) -> set[str]:
    """The longest track (ties: first path) of each group of tracks sharing audio."""
    best: dict[str, str] = {}
    for rel in sorted(music):
        g = groups[rel]
        if g not in best or music[rel].duration_s > music[best[g]].duration_s:
            best[g] = rel
    return set(best.values())


# --------------------------------------------------------------------------
# Speech pool
# --------------------------------------------------------------------------

SENTENCES: tuple[str, ...] = (
    "Where were you last night? I called you three times.",
    "I told you not to touch my coffee.",
    "We need to talk about what happened at the party.",
    "Can you pass me the salt, please?",
    "He's not coming back, is he?",
    "Honestly, I don't care what your mother thinks.",
    "The meeting has been moved to Thursday afternoon.",
    "Did you lock the front door before we left?",
    "I can't believe you actually did that.",
    "Get in the car. We're going to be late.",
    "That's the third time this week the printer jammed.",
    "Look, I'm sorry. I didn't mean it like that.",
    "Who ate the last slice of pizza?",
    "She said she'd be here by eight.",
    "Turn that music down, I'm trying to sleep!",
    "You never listen to a word I say.",
    "Detective, we found something in the basement.",
    "Is this seat taken?",
    "I think we should see other people.",
    "The doctor will see you now.",
    "Grab your coat, it's freezing outside.",
    "What do you mean the money is gone?",
    "Happy birthday! Make a wish.",
    "I've been waiting for this moment my whole life.",
    "Stop right there and put your hands where I can see them.",
    "Do you want to get some dinner later?",
    "My flight got cancelled, so I'm stuck here until Monday.",
    "Mom, have you seen my blue sweater?",
    "It's not what it looks like, I swear.",
    "Okay, everybody, listen up. Here's the plan.",
    "The results came back negative.",
    "We're out of milk again.",
    "I promise I'll call you tomorrow.",
    "Why is there a goat in the kitchen?",
    "Thank you for coming on such short notice.",
    "You look like you've seen a ghost.",
    "Let's just say it was a very long day.",
    "I'll have the chicken, and she'll have the salad.",
    "Nobody leaves this room until we find out who did it.",
    "Are you sure this is the right address?",
    "I got the job! I start on Monday!",
    "Don't forget to feed the cat.",
    "Well, that went better than expected.",
    "Can we please not do this right now?",
    "The storm knocked out power on the whole street.",
    "I know exactly what you did last summer.",
    "Sir, your table is ready.",
    "Just breathe. Everything is going to be fine.",
    "How long have you known about this?",
    "I left my keys in the office, can you let me in?",
    "We interrupt this program for a special announcement.",
    "Pick up the phone, I know you're there.",
    "Tell me again why we moved to this town.",
    "You're late. The boss is furious.",
    "I found this letter under your pillow.",
    "Good morning! Did you sleep well?",
    "There's someone at the door.",
    "That's not funny, Kevin.",
    "If we leave now, we can still make the last train.",
    "Remember, not a word of this to anyone.",
)

VOICES: tuple[str, ...] = (
    "en", "en-us", "en+f3", "en+m3", "en-us+f2", "en+f4",
    "en-gb-x-rp", "en+m5", "en-us+m1", "en+f1", "en-gb-scotland", "en-029+f5",
)
SPEECH_MIN_S, SPEECH_MAX_S = 2.0, 8.0
SPEECH_VERSION = 2  # bump to re-render the pool after changing the recipe


def _espeak(text: str, voice: str, wpm: int, pitch: int, out: Path) -> float:
    """Render ``text`` with espeak-ng into ``out`` (WAV); return its length in s."""
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(out), text],
        check=True,
        capture_output=True,
    )
    with wave.open(str(out), "rb") as w:
        return w.getnframes() / w.getframerate()


def _speech_line(index: int, out: Path) -> None:
    """Render pool entry ``index``: 1-2 sentences in a voice picked from the index.

    About a third of the lines, and every line shorter than ``SPEECH_MIN_S``,
    get a second sentence; lines longer than ``SPEECH_MAX_S`` are spoken
    faster until they fit.
    """
    rng = np.random.default_rng([SPEECH_VERSION, index])
    voice = VOICES[index % len(VOICES)]
    wpm = int(rng.integers(140, 200))
    pitch = int(rng.integers(25, 75))
    text = SENTENCES[index % len(SENTENCES)]
    with tempfile.TemporaryDirectory(prefix="st-speech-") as tmp:
        tmp_wav = Path(tmp) / "line.wav"
        length = _espeak(text, voice, wpm, pitch, tmp_wav)
        if length < SPEECH_MIN_S or rng.random() < 0.35:
            text += " " + SENTENCES[int(rng.integers(len(SENTENCES)))]
            length = _espeak(text, voice, wpm, pitch, tmp_wav)
        while length > SPEECH_MAX_S and wpm < 400:
            wpm = int(wpm * 1.25)
            length = _espeak(text, voice, wpm, pitch, tmp_wav)
        shutil.move(str(tmp_wav), out)


def speech_pool(cache: Path | None = None, n: int = 40) -> list[Path]:
    """Return ``n`` WAV files (22050 Hz mono) of spoken TV-style dialogue, 2-8 s each.

    Rendered once with espeak-ng into ``<cache>/speech-v<N>/``; missing files
    are rendered on demand, existing ones are reused.
    """
    folder = (cache or cache_dir()) / f"speech-v{SPEECH_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"line_{i:03d}.wav" for i in range(n)]
    for i, path in enumerate(paths):
        if not path.exists():
            _speech_line(i, path)
    return paths


def _main() -> None:
    """Print a summary of the corpus (``python -m benchmarks.corpus``)."""
    corpus = build_corpus()
    index_h = corpus.hours
    held_h = sum(t.duration_s for t in corpus.unindexed) / 3600
    print(f"indexed:   {len(corpus.indexed):3d} tracks, {index_h:.2f} h")
    print(f"unindexed: {len(corpus.unindexed):3d} tracks, {held_h:.2f} h")
    print(f"corrupt:   {len(corpus.corrupt):3d} files")
    for path in corpus.corrupt:
        print("   ", path)
    print(f"shared:    {len(corpus.shared):3d} tracks whose audio is in a longer kept track")
    for track in corpus.shared:
        print("   ", track.path)


if __name__ == "__main__":
    _main()
