"""The Python API: a music library on disk that you add files to and identify clips against."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import platformdirs

from . import verify, warp
from .audio import load_audio, resample
from .errors import AudioError, UnusableAudioError
from .export import Soundtrack
from .fingerprint import Landmarks
from .fingerprint.hashes import check_params, landmarks
from .fingerprint.peaks import find_peaks
from .index.store import IndexStore, NewRecording, Snapshot
from .ingest import analyze_file_safe, expand_paths
from .match import MIN_SCORE, Alignment, Hits, align, align_hits
from .models import AddReport, Duplicate, FileFailure, LibraryStats, Match, Recording
from .params import DEFAULT_PARAMS, FingerprintParams

#: Environment variable naming the library directory when none is given.
LIBRARY_ENV = "SOUNDTRACK_LIBRARY"
#: How far (relative) ``identify`` searches speed, tempo and pitch changes by default (not at all:
#: a clip that matches nothing would pay ten times its plain search for it, see README), as the
#: wide search the README measures (``--max-speed-change 0.1``), and at most.
DEFAULT_MAX_SPEED_CHANGE = 0.0
WIDE_SPEED_CHANGE = 0.10
MAX_SPEED_CHANGE_LIMIT = 0.25
#: Shortest query worth matching (seconds).
MIN_QUERY_S = 1.0
#: Files are committed in batches of at most this many (a killed `add` loses at most one batch).
BATCH_FILES = 32
#: A new file whose landmarks match an existing recording this well is the same audio.
DUPLICATE_COVERAGE = 0.25

#: Called once per file with (path, outcome): "added", "unchanged", "duplicate" or "failed".
ProgressCallback = Callable[[str, str], None]


def default_library_path() -> Path:
    """``$SOUNDTRACK_LIBRARY`` if set, else the user's data directory (e.g. ~/.local/share/soundtrack)."""
    env = os.environ.get(LIBRARY_ENV)
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("soundtrack")) / "library"


class Library:
    """An embedded fingerprint library in directory ``path`` (created if missing).

    >>> lib = Library("/tmp/my-library")          # doctest: +SKIP
    >>> lib.add(["~/Music"]).added                # doctest: +SKIP
    >>> lib.identify("clip.m4a")[0].recording.title   # doctest: +SKIP
    """

    def __init__(self, path: str | Path | None = None, *, params: FingerprintParams = DEFAULT_PARAMS,
                 min_score: int = MIN_SCORE) -> None:
        self.path = Path(path).expanduser() if path is not None else default_library_path()
        check_params(params)
        self.params = params
        self.min_score = min_score
        self.store = IndexStore(self.path, params)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- adding ----------------------------------------------------------------------------

    def add(self, paths: Iterable[str | Path], *, jobs: int = 1,
            progress: ProgressCallback | None = None) -> AddReport:
        """Index the media files in ``paths`` (directories are walked recursively).

        Files already indexed and unchanged are skipped; a byte-identical copy or a re-encoding of
        indexed audio is reported as a duplicate, not added. Files that cannot be used are listed
        in ``report.failed`` with the reason, and the rest of the batch goes on. ``jobs`` worker
        processes decode and fingerprint in parallel.
        """
        report = AddReport()
        started = time.perf_counter()
        notify = progress or (lambda _path, _outcome: None)
        todo = [p for p in self._new_files(expand_paths(paths), report, notify)]
        with self.store.write_lock():
            before = max(self.store.segments_since(0), default=0)
            batch: list[NewRecording] = []
            for result in self._analyze_all(todo, jobs):
                if isinstance(result, AudioError):
                    report.failed.append(FileFailure(result.path, result.reason))
                    notify(result.path, "failed")
                    continue
                if any(b.file_sha1 == result.file_sha1 for b in batch):  # a copy within this call:
                    report.added.extend(self._commit(batch, notify))       # commit so it is found
                    batch = []
                duplicate = self._duplicate_of(result)
                if duplicate is not None:
                    report.duplicates.append(duplicate)
                    notify(result.path, "duplicate")
                    continue
                batch.append(result)
                report.audio_s += result.duration_s
                if len(batch) >= BATCH_FILES:
                    report.added.extend(self._commit(batch, notify))
                    batch = []
            report.added.extend(self._commit(batch, notify))
            # one segment per call, not per batch: a query searches each segment once
            self.store.compact(self.store.segments_since(before))
        report.wall_s = time.perf_counter() - started
        return report

    def _new_files(self, files: Iterator[Path], report: AddReport, notify: ProgressCallback) -> Iterator[Path]:
        for file in files:
            resolved = file.resolve()
            state = self.store.file_state(str(resolved))
            if state is not None and resolved.exists():
                st = resolved.stat()
                if (st.st_size, st.st_mtime) == state:
                    report.unchanged.append(str(resolved))
                    notify(str(resolved), "unchanged")
                    continue
            yield resolved

    def _analyze_all(self, files: list[Path], jobs: int) -> Iterator[NewRecording | AudioError]:
        if jobs <= 1 or len(files) <= 1:
            for file in files:
                yield analyze_file_safe(file, self.params)
            return
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            yield from pool.map(analyze_file_safe, files, [self.params] * len(files), chunksize=1)

    def _duplicate_of(self, new: NewRecording) -> Duplicate | None:
        """The committed recording ``new`` duplicates, if any (re-encodings of a file added in the
        same uncommitted batch are not seen)."""
        same_file = self.store.find_by_sha1(new.file_sha1)
        if same_file is not None:
            return Duplicate(new.path, same_file, "same file content")
        snapshot = self.store.snapshot()
        best = align(Landmarks(new.hashes, new.frames), snapshot, min_score=self.min_score, max_results=1)
        if best:
            existing = snapshot.recording(best[0].recording_id)
            coverage = best[0].votes / max(1, new.hashes.size)
            if coverage >= DUPLICATE_COVERAGE and abs(existing.duration_s - new.duration_s) <= 0.05 * new.duration_s:
                return Duplicate(new.path, existing, "same audio")
        return None

    def _commit(self, batch: list[NewRecording], notify: ProgressCallback) -> list[Recording]:
        added = self.store.commit(batch)
        for rec in added:
            notify(rec.path, "added")
        return added

    # -- identifying -----------------------------------------------------------------------

    def identify(self, source: str | Path | np.ndarray, *, sample_rate: int | None = None,
                 max_results: int = 5, max_speed_change: float = DEFAULT_MAX_SPEED_CHANGE) -> list[Match]:
        """Recordings heard in ``source`` (a media file, or mono samples at ``sample_rate`` Hz).

        Returns matches strongest first; an empty list when nothing in the library matches. With
        ``max_speed_change`` > 0 (e.g. :data:`WIDE_SPEED_CHANGE`), a plain match gets its tempo
        fitted, and when the plain search finds nothing, recordings played up to that much
        (relative) faster or slower, tempo-stretched or pitch-shifted are searched too (see
        :mod:`soundtrack.warp`); ``Match.speed``/``Match.pitch`` say how. The default, 0, is the
        plain search alone.
        """
        if not 0 <= max_speed_change <= MAX_SPEED_CHANGE_LIMIT:
            raise ValueError(f"max_speed_change must be within 0..{MAX_SPEED_CHANGE_LIMIT}, got {max_speed_change}")
        samples, name = self._query_samples(source, sample_rate)
        duration_s = samples.size / self.params.sample_rate
        if duration_s < MIN_QUERY_S:
            raise UnusableAudioError(name, f"is too short ({duration_s:.2f} s; at least {MIN_QUERY_S:.0f} s is needed)")
        peaks = find_peaks(samples, self.params)
        query = landmarks(peaks, self.params, fan_out=self.params.query_fan_out, expand=True)
        snapshot = self.store.snapshot()  # one consistent view for the search and the metadata
        hits = Hits.of(query, snapshot)
        alignments = align_hits(hits, min_score=self.min_score, max_results=max_results)
        if alignments:
            matches = [self._match(a, snapshot.recording(a.recording_id), len(query)) for a in alignments]
            if max_speed_change > 0:
                matches = [self._with_time_scale(m, a, hits, max_speed_change) for m, a in zip(matches, alignments)]
            return matches
        checked: dict[tuple[int, int], verify.Evidence | None] = {}  # (recording id, offset) -> evidence
        own = verify.query_features(samples, self.params)
        verified = self._verified(verify.candidates(hits), own, duration_s, snapshot, len(query),
                                  checked)
        if not verified:
            dense = verify.dense_query(samples, self.params)
            verified = self._verified(verify.candidates(Hits.of(dense, snapshot)), own, duration_s,
                                      snapshot, len(dense), checked)
        if verified or max_speed_change == 0:
            return verified
        warped = warp.search(samples, snapshot, self.params, max_change=max_speed_change,
                             min_score=self.min_score, max_results=max_results)
        return [self._warped_match(a, snapshot.recording(a.recording_id), len(query)) for a in warped]

    def _verified(self, candidates: list[Alignment], query: verify.QueryFeatures, duration_s: float,
                  snapshot: Snapshot, n_query: int, checked: dict[tuple[int, int], verify.Evidence | None]
                  ) -> list[Match]:
        """The first of ``candidates`` that the recording's own audio confirms against the query's
        features (:func:`soundtrack.verify.query_features`), as a one-match list, or an empty list.
        ``checked`` keeps the evidence of each (recording id, offset) seen, so none is decoded
        twice."""
        for a in candidates:
            recording = snapshot.recording(a.recording_id)
            key = (a.recording_id, a.offset_frames)
            if key not in checked:
                checked[key] = verify.evidence(query, recording.path, a.offset_frames, duration_s, self.params)
            found = checked[key]
            if found is not None and found.z >= verify.MIN_Z:
                match = self._match(a, recording, n_query)
                return [dataclasses.replace(match, verified=True, confidence=verify.confidence(found.z))]
        return []

    def _query_samples(self, source: str | Path | np.ndarray, sample_rate: int | None) -> tuple[np.ndarray, str]:
        if isinstance(source, np.ndarray):
            if sample_rate is None:
                raise ValueError("sample_rate is required when identifying raw samples")
            samples = np.asarray(source, dtype=np.float32)
            if samples.ndim == 2:
                samples = samples.mean(axis=0 if samples.shape[0] < samples.shape[1] else 1)
            if sample_rate != self.params.sample_rate:
                samples = resample(samples, sample_rate, self.params.sample_rate)
            return samples, "<samples>"
        return load_audio(source, self.params.sample_rate), str(source)

    def _match(self, a: Alignment, recording: Recording, n_query: int) -> Match:
        p = self.params
        return Match(
            recording=recording,
            offset_s=p.frames_to_seconds(a.offset_frames),
            query_start_s=p.frames_to_seconds(a.query_first_frame),
            query_end_s=p.frames_to_seconds(a.query_last_frame) + p.n_fft / p.sample_rate,
            score=a.score,
            coverage=a.votes / max(1, n_query),
            confidence=1.0 - 2.0 ** (-a.score / a.threshold),
        )

    def _with_time_scale(self, m: Match, a: Alignment, hits: Hits, max_change: float) -> Match:
        """``m`` with its speed (a tempo change) fitted, when that lines up clearly more landmarks."""
        q, r = hits.of_recording(a.recording_id)
        fit = warp.time_scale(q, r, a.offset_frames, a.score, max_change)
        if fit is None:
            return m
        slope, offset, score = fit
        return dataclasses.replace(m, offset_s=self.params.frames_to_seconds(offset), speed=slope, score=score,
                                   confidence=1.0 - 2.0 ** (-score / a.threshold))

    def _warped_match(self, a: warp.WarpedAlignment, recording: Recording, n_query: int) -> Match:
        p = self.params
        return Match(
            recording=recording,
            offset_s=p.frames_to_seconds(a.offset_frames),
            query_start_s=p.frames_to_seconds(a.query_first_frame),
            query_end_s=p.frames_to_seconds(a.query_last_frame) + p.n_fft / p.sample_rate,
            score=a.score,
            coverage=a.votes / max(1, n_query),
            confidence=1.0 - 2.0 ** (-a.score / a.threshold),
            speed=a.speed,
            pitch=a.pitch,
        )

    # -- scanning --------------------------------------------------------------------------

    def scan(self, path: str | Path, *, progress: Callable[[float, float], None] | None = None,
             max_speed_change: float = 0.0) -> Soundtrack:
        """Every library recording heard in the long media file ``path`` (an episode, a film), as
        cues with episode and recording times; see :mod:`soundtrack.scan`. ``progress`` is called
        with (episode seconds done, × real time). Raises :class:`AudioError` for unusable files.

        Normal speed and the PAL speed-up (25/24) are always searched; ``max_speed_change`` > 0
        also searches songs played up to that much (relative) faster or slower, tempo and pitch
        together or tempo alone, and shifted in pitch alone (up to one semitone), in 1 % steps;
        each cue reports its ``speed`` and ``pitch``. This costs several times a plain scan (see
        README)."""
        from .scan import Scanner

        if not 0 <= max_speed_change <= MAX_SPEED_CHANGE_LIMIT:
            raise ValueError(f"max_speed_change must be within 0..{MAX_SPEED_CHANGE_LIMIT}, got {max_speed_change}")
        scanner = Scanner(self.store, self.params, min_score=self.min_score, max_speed_change=max_speed_change)
        return scanner.scan(path, progress)

    # -- the library -----------------------------------------------------------------------

    def recordings(self) -> list[Recording]:
        """Every recording in the library, by id."""
        return self.store.recordings()

    def recording(self, recording_id: int) -> Recording:
        """One recording; raises :class:`NotFoundError` for an unknown id."""
        return self.store.recording(recording_id)

    def remove(self, recording_id: int) -> Recording:
        """Remove a recording from the library; returns what was removed."""
        rec = self.store.recording(recording_id)
        with self.store.write_lock():
            self.store.remove([recording_id])
        return rec

    def stats(self) -> LibraryStats:
        """Recordings, hours of audio and bytes of index."""
        n, seconds, hashes, n_seg, nbytes = self.store.totals()
        db = sum(f.stat().st_size for f in self.path.glob("library.db*"))
        return LibraryStats(recordings=n, hours=seconds / 3600, hashes=hashes, segments=n_seg,
                            index_bytes=nbytes, database_bytes=db, path=str(self.path))
