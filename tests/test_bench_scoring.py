"""The identify benchmark's scoring: when a match to never-indexed music is not a false positive."""

from __future__ import annotations

from audiogen import SR, synth_music
from benchmarks.identify_bench import CONTAINS_CORRELATION, waveform_correlation


def test_audio_mixed_under_other_parts_is_found_in_the_clip() -> None:
    indexed = synth_music(1, 7.0)
    other_parts = synth_music(2, 5.0)
    start = int(1.3 * SR)
    clip = indexed[start : start + 5 * SR] + other_parts  # the indexed audio, with more on top
    assert waveform_correlation(clip, indexed) > CONTAINS_CORRELATION
    assert waveform_correlation(indexed[start : start + 5 * SR], indexed) > 0.99


def test_unrelated_music_is_not_found_in_the_clip() -> None:
    clip = synth_music(3, 5.0)
    assert waveform_correlation(clip, synth_music(4, 6.0)) < CONTAINS_CORRELATION / 2


def test_a_recording_shorter_than_the_clip_is_not_found() -> None:
    assert waveform_correlation(synth_music(5, 5.0), synth_music(5, 2.0)) == 0.0
