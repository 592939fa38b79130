"""Find the quieter song of a mashup: take the song already found out of the episode, look again.

Two songs mixed at about the same level (a mashup) do not both leave landmarks: where their
spectral peaks meet, the louder one's win, and the quieter one may keep none at all. But the song
that was found is known to the sample (:mod:`.listen` aligns its recording with the episode), so
it can be subtracted, block by block at the gain the episode has it at, and what is left (the
other song, the dialogue) fingerprinted and looked up again. A recording found there is checked
by listening to it in the episode, as any candidate is.

This runs only for cues whose recording explains about as much of the episode as everything else
does (:data:`BALANCE_RANGE_DB`: a mashup's songs are within a few dB of each other; a song alone
stands well above the rest, one under dialogue well below it), on a few short probes
(:data:`PROBES`, :data:`PROBE_S`) of the part of the cue still in the ring.
"""

from __future__ import annotations

import numpy as np

from ..index.store import Snapshot
from ..match import acceptance_threshold, best_alignments
from ..params import FingerprintParams
from .hits import Hits
from .listen import Alignment, Listener
from .stream import Grid, Warp, recording_of
from .tracks import OFFSET_SLACK

#: Cues with a music-to-rest balance (dB, :func:`soundtrack.scan.compare.balance_db`) in this
#: range are probed for a second song. The louder song of the scan benchmark's mashups is heard at
#: -9.0 to +2.6 dB against the rest (the other song and the dialogue): the other song, if bass-heavy,
#: weighs more in the balance than in the landmarks. A song alone stands above +4 dB unless the
#: dialogue is as loud; background music, 12-18 dB under the dialogue, is mostly below -12 dB.
BALANCE_RANGE_DB = (-12.0, 4.0)
#: Probes per cue and their length (s), spread over the part of the cue still in the ring.
PROBES = 3
PROBE_S = 6.0
#: The gain of the found song is fitted in blocks this long (s) and interpolated between them.
GAIN_BLOCK_S = 0.5
#: Landmark ids of unmasked audio start at ``UNMASK_GRID << QID_BITS`` (apart from the grids').
UNMASK_GRID = 1 << 10
#: A second song needs this many agreeing frames over the probes, and the acceptance threshold
#: of the probes' hits (as a window of the scan does).
SECOND_SONG_MIN_SCORE = 8


def worth_unmasking(balance_db: float | None) -> bool:
    """Whether a cue with this balance may hide a second song of about its level."""
    return balance_db is not None and BALANCE_RANGE_DB[0] <= balance_db <= BALANCE_RANGE_DB[1]


def subtract(episode: np.ndarray, recording: np.ndarray, block: int) -> np.ndarray:
    """``episode`` less ``recording`` (aligned samples) at the gain the episode has it at, fitted by
    least squares per ``block`` samples and interpolated linearly between block centres."""
    n = min(episode.size, recording.size) // block * block
    if n == 0:
        return episode.astype(np.float32)
    e = episode[:n].astype(np.float64).reshape(-1, block)
    r = recording[:n].astype(np.float64).reshape(-1, block)
    gain = np.clip(np.einsum("ij,ij->i", e, r) / np.maximum(np.einsum("ij,ij->i", r, r), 1e-12), 0.0, 4.0)
    centres = (np.arange(gain.size) + 0.5) * block
    per_sample = np.interp(np.arange(episode.size), centres, gain)
    heard = np.zeros(episode.size)
    heard[: min(episode.size, recording.size)] = recording[: episode.size]
    return (episode.astype(np.float64) - per_sample * heard).astype(np.float32)


def unmasked_hits(listener: Listener, align_of_found: Alignment, found_recording: int, warp: Warp,
                  first_frame: int, end_frame: int, snapshot: Snapshot, params: FingerprintParams,
                  number: int) -> Hits:
    """Index hits of the episode with the found recording (at ``align_of_found``) taken out, on
    :data:`PROBES` probes between episode frames ``first_frame`` and ``end_frame`` (those still in
    the ring), heard at ``warp``; the found recording's own hits are left out. Frames and offsets
    are those of the scan's grids."""
    hop, sr = params.hop, params.sample_rate
    lo = max(first_frame * hop, listener.ring.start)
    hi = min(end_frame * hop, listener.ring.end)
    probe = round(PROBE_S * sr)
    if hi - lo < probe:
        return Hits.empty()
    parts = []
    for k, centre in enumerate(np.linspace(lo + probe // 2, hi - probe // 2, PROBES).astype(np.int64)):
        first = int(centre - probe // 2) // hop * hop  # whole frames: the grid's frames are the episode's
        x = listener.excerpt(align_of_found, first, first + probe)
        if x is None or x.first != first:
            continue
        rest = subtract(x.episode, x.recording, round(GAIN_BLOCK_S * sr))
        grid = Grid(params, pitch=warp.pitch, fan_out=params.fan_out)
        grid.add_warp(warp, UNMASK_GRID + number * PROBES + k)
        grid.push(rest)
        grid.flush()
        h = grid.hits(snapshot)
        keep = recording_of(h.source) != found_recording
        shift = first // hop
        parts.append(Hits(source=h.source[keep], offset=h.offset[keep] - round(shift * warp.speed),
                          frame=h.frame[keep] + shift, last=h.last[keep] + shift, qid=h.qid[keep]))
    return Hits.concat(parts)


def second_songs(hits: Hits, max_results: int = 2) -> list[tuple[int, int, Hits]]:
    """(source, offset, agreeing hits) of the alignments the unmasked hits hold, strongest first."""
    if len(hits) == 0:
        return []
    threshold = max(SECOND_SONG_MIN_SCORE, acceptance_threshold(len(hits), SECOND_SONG_MIN_SCORE))
    found = best_alignments(hits.source, hits.offset, hits.frame, min_score=threshold, max_results=max_results)
    return [(a.recording_id, a.offset_frames, hits.agreeing(a.recording_id, a.offset_frames, OFFSET_SLACK))
            for a in found]
