"""The scan benchmark's per-variant figures and the cue-evidence tool's counting."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from audiogen import synth_music
from benchmarks.cue_evidence import pair_hashes, window_scores
from benchmarks.scan_bench import by_variant

from soundtrack.fingerprint.peaks import find_peaks
from soundtrack.params import DEFAULT_PARAMS as P


def _row(variant: str, found: int, truth: int, mashups: tuple[int, int]) -> dict:
    return {"variant": variant, "n_truth": truth, "n_predicted": found, "n_matched": found,
            "count_by_kind": {"mashup": 2 * mashups[1]}, "recall_by_kind": {"mashup": mashups[0] / mashups[1]},
            "mashup_both_found": mashups[0] / mashups[1], "n_mashups": mashups[1], "start_errors_s": [0.1],
            "end_errors_s": [0.2], "usage_confusion": {}, "cpu_by_stage_s": {}, "score_reported": 0,
            "usage_correct": found, "duration_s": 60.0, "cpu_s": 1.0, "wall_s": 1.0, "decode_alone_cpu_s": 0.5}


def test_the_figures_by_variant_pool_each_variant_and_everything_but_the_phone() -> None:
    rows = [_row("clean", 10, 10, (2, 2)), _row("phone", 5, 10, (0, 1)), _row("clean", 9, 10, (1, 1))]
    groups = by_variant(rows)
    assert list(groups) == ["clean", "phone", "all but phone"]
    assert groups["clean"]["n_matched"] == 19 and groups["clean"]["mashup_both_found"] == 1.0
    assert groups["phone"]["recall"] == 0.5 and groups["phone"]["mashup_both_found"] == 0.0
    assert groups["all but phone"]["n_truth"] == 20
    assert list(by_variant(rows[:1])) == ["clean"]  # nothing to set apart


def test_a_clip_expanded_holds_the_pair_hashes_of_its_recording() -> None:
    peaks = find_peaks(synth_music(7, 8.0), P)
    stored, stored_frames = pair_hashes(peaks, P, 3, expand=False)
    query, query_frames = pair_hashes(peaks, P, 5, expand=True)
    assert stored.size > 100
    found = set(zip(query.tolist(), query_frames.tolist()))
    assert all((h, f) in found for h, f in zip(stored.tolist(), stored_frames.tolist()))


def test_window_scores_count_the_true_alignment_and_take_chance_from_other_recordings() -> None:
    fps = P.sample_rate / P.hop
    cue = SimpleNamespace(recording="/lib/a.ogg", recording_start_s=10.0, episode_start_s=0.0, episode_end_s=20.0,
                          speed=1.0)
    truth = SimpleNamespace(cues=[cue])
    true_offset = round(10.0 * fps)
    frames = np.arange(0, 300, 10)  # 30 anchor frames in the first 4.8 s
    chance = np.array([50, 51, 52])  # another recording, one offset, 3 frames
    hits = (np.concatenate([frames, frames, chance]),
            np.concatenate([np.full(30, 1), np.full(30, 1), np.full(3, 2)]),
            np.concatenate([frames + true_offset, frames + true_offset + 400, chance + 77]))
    per_cue, best_chance = window_scores(hits, truth, {"/lib/a.ogg": 1}, P)
    assert max(per_cue[0]) == 30  # the repeat 400 frames away is not the true alignment
    assert max(best_chance) == 3  # recording 1 plays in the episode: its repeat is not chance
