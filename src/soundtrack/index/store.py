"""The embedded index: a directory of immutable segments plus a SQLite manifest.

::

    <library>/
      library.db            recordings, segments, settings (SQLite, WAL mode)
      segments/*.npy        sorted (hash, position) pairs, written once (see ``segments.py``)
      write.lock            held (flock) by the one process that is adding or removing

Writers take the lock, write a segment file, then commit one transaction naming it and its
recordings. Readers never lock: they read the committed manifest and memory-map the segments it
names. A process killed at any point leaves either the old manifest (plus an unreferenced segment
file, deleted by the next writer) or the new one.
"""

from __future__ import annotations

import fcntl
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, update

from ..errors import IndexMismatchError, LibraryError, LibraryLockedError, NotFoundError
from ..models import Recording
from ..params import FingerprintParams
from . import tables
from .segments import Segment, delete_segment, expand_ranges, open_segment, segment_paths, write_segment

#: Bumped whenever the on-disk layout changes incompatibly.
FORMAT_VERSION = 1
#: More segments than this are merged into one by the writer (lookups cost one search per segment).
MAX_SEGMENTS = 12


@dataclass(frozen=True)
class NewRecording:
    """A fingerprinted file ready to be committed: its landmarks and metadata."""

    hashes: np.ndarray  # uint32
    frames: np.ndarray  # int32 anchor frame of each hash, from the recording start
    n_frames: int
    path: str
    file_size: int
    file_mtime: float
    file_sha1: str
    duration_s: float
    tags: dict[str, str | None]


@dataclass(frozen=True)
class SegmentView:
    """A segment and the live recordings in it: positions ``[starts[i], ends[i])`` belong to ``ids[i]``."""

    segment: Segment
    starts: np.ndarray
    ends: np.ndarray
    ids: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """The index as committed at one generation: what a query searches."""

    generation: int
    views: tuple[SegmentView, ...]
    recordings: dict[int, Recording]

    def recording(self, recording_id: int) -> Recording:
        """The recording with id ``recording_id``; :class:`NotFoundError` if it is not in the index."""
        try:
            return self.recordings[recording_id]
        except KeyError:
            raise NotFoundError(f"no recording with id {recording_id}") from None

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All stored landmarks with a hash in ``hashes``.

        Returns ``(query_index, recording_id, frame)``: the index of the matching query hash, the
        recording it belongs to, and its anchor frame in that recording.
        """
        empty = np.zeros(0, np.int64)
        if hashes.size == 0:
            return empty, empty, empty
        # search each hash once, in order: one sort groups the query positions by hash
        by_hash = np.argsort(hashes, kind="stable")
        ordered = hashes[by_hash]
        group_start = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
        group_size = np.diff(np.append(group_start, ordered.size))
        distinct = ordered[group_start]
        parts_d, parts_id, parts_f = [], [], []
        for view in self.views:
            di, pos = view.segment.lookup(distinct)
            if di.size == 0 or view.ids.size == 0:
                continue
            which = np.searchsorted(view.starts, pos, side="right") - 1
            live = (which >= 0) & (pos < view.ends[np.maximum(which, 0)])
            which = which[live]
            parts_d.append(di[live])
            parts_id.append(view.ids[which])
            parts_f.append(pos[live] - view.starts[which])
        if not parts_d:
            return empty, empty, empty
        di, rec_id, frame = np.concatenate(parts_d), np.concatenate(parts_id), np.concatenate(parts_f)
        # back from distinct hashes to every query position holding that hash
        hit, slot = expand_ranges(group_start[di], group_size[di])
        return by_hash[slot], rec_id[hit], frame[hit]


class IndexStore:
    """Open (or create) the index in ``directory`` for fingerprints made with ``params``."""

    def __init__(self, directory: Path, params: FingerprintParams) -> None:
        self.directory = directory
        self.segment_dir = directory / "segments"
        self.params = params
        try:
            self.segment_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"cannot create the library at {directory}: {exc.strerror}") from None
        self.engine = _sqlite_engine(directory / "library.db")
        self._snapshot: Snapshot | None = None
        self._check_or_init_settings()

    def close(self) -> None:
        self.engine.dispose()

    # -- reading ---------------------------------------------------------------------------

    def generation(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(tables.settings.c.value).where(tables.settings.c.key == "generation")
            ).scalar_one()
        return int(value)

    def snapshot(self) -> Snapshot:
        """The current committed index; reloaded only when a writer has committed since."""
        generation = self.generation()
        if self._snapshot is None or self._snapshot.generation != generation:
            for _attempt in range(5):
                try:
                    self._snapshot = self._load_snapshot()
                    break
                except FileNotFoundError:  # a concurrent compaction replaced a segment: reload
                    time.sleep(0.05)
            else:
                raise LibraryError(f"the index in {self.directory} keeps changing; try again")
        assert self._snapshot is not None
        return self._snapshot

    def recording(self, recording_id: int) -> Recording:
        """The recording with id ``recording_id`` in the current snapshot."""
        return self.snapshot().recording(recording_id)

    def recordings(self) -> list[Recording]:
        """All live recordings, by id."""
        recordings = self.snapshot().recordings
        return [recordings[k] for k in sorted(recordings)]

    def find_by_path(self, path: str) -> Recording | None:
        return self._find_one(tables.recordings.c.path == path)

    def find_by_sha1(self, sha1: str) -> Recording | None:
        return self._find_one(tables.recordings.c.file_sha1 == sha1)

    def file_state(self, path: str) -> tuple[int, float] | None:
        """``(size, mtime)`` recorded when ``path`` was indexed, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(tables.recordings.c.file_size, tables.recordings.c.file_mtime).where(
                    tables.recordings.c.path == path
                )
            ).first()
        return None if row is None else (int(row[0]), float(row[1]))

    def totals(self) -> tuple[int, float, int, int, int]:
        """``(recordings, seconds of audio, hashes, segments, index bytes)``."""
        r, s = tables.recordings, tables.segments
        with self.engine.connect() as conn:
            n, seconds, hashes = conn.execute(
                select(func.count(r.c.id), func.coalesce(func.sum(r.c.duration_s), 0.0),
                       func.coalesce(func.sum(r.c.n_hashes), 0))
            ).one()
            n_seg, nbytes = conn.execute(select(func.count(s.c.id), func.coalesce(func.sum(s.c.nbytes), 0))).one()
        return int(n), float(seconds), int(hashes), int(n_seg), int(nbytes)

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def write_lock(self, timeout_s: float = 600.0) -> Iterator[None]:
        """Hold the library's write lock; wait up to ``timeout_s`` seconds for it."""
        lock_path = self.directory / "write.lock"
        with open(lock_path, "a+") as fh:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LibraryLockedError(
                            f"another process is writing to {self.directory} (waited {timeout_s:.0f} s)"
                        ) from None
                    time.sleep(0.1)
            try:
                self._delete_orphan_segments()
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def commit(self, batch: Sequence[NewRecording]) -> list[Recording]:
        """Write ``batch`` as one new segment and commit it, replacing earlier versions of the same
        files. Call with the write lock held."""
        if not batch:
            return []
        starts = np.cumsum([0] + [rec.n_frames + 1 for rec in batch[:-1]], dtype=np.int64)
        hashes = np.concatenate([rec.hashes for rec in batch])
        positions = np.concatenate([rec.frames.astype(np.int64) + s for rec, s in zip(batch, starts)])
        name = f"seg-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        nbytes = write_segment(self.segment_dir, name, hashes, positions)
        n_frames = int(starts[-1] + batch[-1].n_frames + 1)
        now = time.time()
        with self.engine.begin() as conn:
            seg_id = conn.execute(
                insert(tables.segments).values(name=name, n_hashes=int(hashes.size), n_frames=n_frames, nbytes=nbytes)
            ).inserted_primary_key[0]
            # a file indexed before and changed since is replaced, not listed twice
            conn.execute(delete(tables.recordings).where(tables.recordings.c.path.in_([r.path for r in batch])))
            ids = []
            for rec, start in zip(batch, starts):
                ids.append(
                    conn.execute(
                        insert(tables.recordings).values(
                            segment_id=seg_id, start_frame=int(start), n_frames=rec.n_frames,
                            n_hashes=int(rec.hashes.size), path=rec.path, file_size=rec.file_size,
                            file_mtime=rec.file_mtime, file_sha1=rec.file_sha1, duration_s=rec.duration_s,
                            added_at=now, **rec.tags,
                        )
                    ).inserted_primary_key[0]
                )
            _bump_generation(conn)
        self.compact_if_needed()
        return [self.recording(i) for i in ids]

    def remove(self, recording_ids: Sequence[int]) -> int:
        """Remove recordings (their hashes are dropped at the next compaction). Needs the lock."""
        with self.engine.begin() as conn:
            n = conn.execute(delete(tables.recordings).where(tables.recordings.c.id.in_(list(recording_ids)))).rowcount
            if n:
                _bump_generation(conn)
        return int(n)

    def compact_if_needed(self) -> None:
        with self.engine.connect() as conn:
            n = conn.execute(select(func.count(tables.segments.c.id))).scalar_one()
        if n > MAX_SEGMENTS:
            self.compact()

    def segments_since(self, segment_id: int) -> list[int]:
        """Ids of the segments committed after segment ``segment_id`` (0: all), oldest first."""
        s = tables.segments
        with self.engine.connect() as conn:
            return list(conn.execute(select(s.c.id).where(s.c.id > segment_id).order_by(s.c.id)).scalars())

    def compact(self, segment_ids: Sequence[int] | None = None) -> None:
        """Merge segments (default: all) into one, dropping the hashes of removed recordings.
        Needs the lock."""
        r, s = tables.recordings, tables.segments
        with self.engine.connect() as conn:
            query = select(s.c.id, s.c.name).order_by(s.c.id)
            if segment_ids is not None:
                query = query.where(s.c.id.in_(list(segment_ids)))
            segs = conn.execute(query).all()
            if len(segs) < 2 and segment_ids is not None:
                return
            recs = conn.execute(select(r.c.id, r.c.segment_id, r.c.start_frame, r.c.n_frames)
                                .where(r.c.segment_id.in_([seg.id for seg in segs])).order_by(r.c.id)).all()
        hashes, positions, new_starts = [], [], {}
        cursor = 0
        by_segment: dict[int, list] = {}
        for rec in recs:
            by_segment.setdefault(rec.segment_id, []).append(rec)
        for seg_id, seg_name in segs:
            seg = open_segment(self.segment_dir, seg_name)
            keys, pos = np.asarray(seg.keys), np.asarray(seg.positions, dtype=np.int64)
            for rec in by_segment.get(seg_id, []):
                inside = (pos >= rec.start_frame) & (pos < rec.start_frame + rec.n_frames + 1)
                hashes.append(keys[inside])
                positions.append(pos[inside] - rec.start_frame + cursor)
                new_starts[rec.id] = cursor
                cursor += rec.n_frames + 1
        name = f"seg-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, np.uint32)
        all_pos = np.concatenate(positions) if positions else np.zeros(0, np.int64)
        nbytes = write_segment(self.segment_dir, name, all_hashes, all_pos)
        with self.engine.begin() as conn:
            seg_id = conn.execute(
                insert(s).values(name=name, n_hashes=int(all_hashes.size), n_frames=cursor, nbytes=nbytes)
            ).inserted_primary_key[0]
            for rec_id, start in new_starts.items():
                conn.execute(update(r).where(r.c.id == rec_id).values(segment_id=seg_id, start_frame=start))
            conn.execute(delete(s).where(s.c.id.in_([seg.id for seg in segs])))
            _bump_generation(conn)
        for _seg_id, seg_name in segs:
            delete_segment(self.segment_dir, seg_name)

    # -- internals -------------------------------------------------------------------------

    def _check_or_init_settings(self) -> None:
        wanted = {"format_version": str(FORMAT_VERSION), "params": self.params.to_json()}
        tables.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            have = dict(conn.execute(select(tables.settings.c.key, tables.settings.c.value)).all())
            if not have:
                conn.execute(insert(tables.settings), [{"key": k, "value": v} for k, v in wanted.items()]
                             + [{"key": "generation", "value": "0"}])
                return
        if have.get("format_version") != wanted["format_version"]:
            raise IndexMismatchError(
                f"the library at {self.directory} has format version {have.get('format_version')}, "
                f"this soundtrack reads version {FORMAT_VERSION}: re-create it with `soundtrack add`"
            )
        try:
            same_params = FingerprintParams.from_json(have["params"]) == self.params
        except (TypeError, ValueError):  # written by a version with other parameter names
            same_params = False
        if not same_params:
            raise IndexMismatchError(
                f"the library at {self.directory} was built with other fingerprint parameters; "
                "open it with its own parameters or build a new library"
            )

    def _load_snapshot(self) -> Snapshot:
        r, s = tables.recordings, tables.segments
        with self.engine.connect() as conn:
            generation = int(conn.execute(
                select(tables.settings.c.value).where(tables.settings.c.key == "generation")).scalar_one())
            segs = conn.execute(select(s.c.id, s.c.name).order_by(s.c.id)).all()
            rows = conn.execute(select(r).order_by(r.c.segment_id, r.c.start_frame)).mappings().all()
        views = []
        for seg_id, seg_name in segs:
            mine = [row for row in rows if row["segment_id"] == seg_id]
            views.append(SegmentView(
                segment=open_segment(self.segment_dir, seg_name),
                starts=np.array([row["start_frame"] for row in mine], dtype=np.int64),
                ends=np.array([row["start_frame"] + row["n_frames"] + 1 for row in mine], dtype=np.int64),
                ids=np.array([row["id"] for row in mine], dtype=np.int64),
            ))
        return Snapshot(generation, tuple(views), {row["id"]: _recording(row) for row in rows})

    def _find_one(self, condition) -> Recording | None:  # noqa: ANN001 - SQLAlchemy expression
        with self.engine.connect() as conn:
            row = conn.execute(select(tables.recordings).where(condition).limit(1)).mappings().first()
        return None if row is None else _recording(row)

    def _delete_orphan_segments(self) -> None:
        with self.engine.connect() as conn:
            known = set(conn.execute(select(tables.segments.c.name)).scalars())
        for path in self.segment_dir.iterdir():
            name = path.name.split(".")[0]
            if name not in known:
                path.unlink(missing_ok=True)


def _recording(row) -> Recording:  # noqa: ANN001 - a SQLAlchemy RowMapping
    return Recording(
        id=row["id"], path=row["path"], title=row["title"], duration_s=row["duration_s"],
        artist=row["artist"], album=row["album"], composer=row["composer"], publisher=row["publisher"],
        musicbrainz_recording_id=row["musicbrainz_recording_id"],
        musicbrainz_release_id=row["musicbrainz_release_id"],
        musicbrainz_artist_id=row["musicbrainz_artist_id"],
        n_hashes=row["n_hashes"], added_at=row["added_at"],
    )


def _bump_generation(conn) -> None:  # noqa: ANN001 - a SQLAlchemy Connection
    value = conn.execute(select(tables.settings.c.value).where(tables.settings.c.key == "generation")).scalar_one()
    conn.execute(update(tables.settings).where(tables.settings.c.key == "generation").values(value=str(int(value) + 1)))


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


__all__ = ["IndexStore", "NewRecording", "Snapshot", "segment_paths"]
