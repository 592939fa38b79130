"""Scan a long recording (a TV episode, a film) for every song of the library it contains.

The episode is decoded once and fingerprinted as a stream, so memory does not grow with its length:

1. ``stream``: each decoded block is fingerprinted for every searched warp (normal, and slowed
   by 25/24 to undo a PAL speed-up, until the episode's speed is clear; with ``max_speed_change``
   also other speeds, tempos and pitches in 1 % steps) with a fan-out a little above the index's
   (``scanner.SCAN_FAN_OUT``), so that peaks dialogue or a phone adds do not hide the index's;
   only the index hits are kept. One grid per pitch resamples
   the audio and finds its peaks once; each tempo of that pitch stretches the peaks' frames.
2. ``tracks``: hits are voted on in sliding windows; an alignment opens a track of one recording
   at one offset, which gathers every agreeing hit, before (back-fill) and after.
3. ``listen`` and ``compare``: around each edge of a confirmed track the recording's own audio is
   decoded and correlated with the episode audio still held in a ring, moving the edge out to
   where the music really starts and stops (the fingerprint misses fades, buried stretches and
   the quieter song of a mashup); the same comparison measures the music against the dialogue.
   A tempo or pitch change alone cannot be replayed by resampling: those cues keep the edges
   their landmarks give.
4. ``cues``: confirmed tracks become cues; echoes of shared material, chance tracks masked by a
   dominant song and repeats of a recording's own material are dropped.
5. ``scanner``: ties these together; flags, overlaps, usage.
"""

from .scanner import Scanner, ScanProgress

__all__ = ["ScanProgress", "Scanner"]
