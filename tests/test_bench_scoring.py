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


def test_the_calibration_counts_the_first_confirmed_candidate_and_keeps_shared_audio_apart(capsys) -> None:
    from benchmarks.verify_candidates import combined, report

    assert combined([4.0, 4.0, 4.0]) == 12 / 3**0.5 and combined([4.0, 4.0, 9.0], slice(0, 2)) == 8 / 2**0.5
    right = {"right": True, "z": [5.0, 5.0, 5.0]}  # peaks alone 7.1, all three 8.7
    wrong = {"right": False, "z": [6.0, 6.0, 0.0]}  # peaks alone 8.5: listed first, it is taken
    records = [
        {"condition": "phone", "duration_s": 5, "expected": True, "plain": False, "candidates": [right]},
        {"condition": "phone", "duration_s": 5, "expected": True, "plain": False, "candidates": [wrong, right]},
        {"condition": "clean", "duration_s": 5.0, "expected": False, "plain": False,
         "candidates": [{**wrong, "shared": 0.6}, {"right": False, "z": [1.0, 2.0, 3.0], "shared": 0.05}]},
    ]
    report(records, min_z=6.5)
    out = capsys.readouterr().out
    assert "phone 5s                       2       1           1" in out  # peaks: the wrong one first
    assert "sharing audio (waveform correlation >= 0.15): 1" in out
    assert "peaks+bits  highest without shared audio [6.9, 3.5], with [6.9]" in out
