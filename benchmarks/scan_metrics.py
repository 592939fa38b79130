"""Scoring for the scan benchmark: compare predicted song cues with episode truth.

Pure functions, no I/O.  A *truth cue* is a mapping (or an object with the same
attributes, e.g. ``benchmarks.episodes.CueTruth``) with at least::

    kind, recording, episode_start_s, episode_end_s, expected
    (optional) recording_start_s, overlaps_with

``expected`` is True for song cues the scanner must report and False for score
cues (music from recordings that are not in the library).  A *predicted cue*
is a mapping ``{"recording", "episode_start_s", "episode_end_s",
"recording_start_s"?, "foreground"?}``.  All times are in seconds of the episode timeline.

Usage: a truth cue of kind ``background`` (12-18 dB under the dialogue) should be
reported with ``foreground`` false, every other song with ``foreground`` true.

Matching: a prediction matches a truth song cue when it names the same
recording and their temporal intersection-over-union is >= ``min_iou`` (0.5);
pairs are assigned greedily, best IoU first, one-to-one.

Run ``python -m benchmarks.scan_metrics`` for the self-check.
"""
from __future__ import annotations

import os
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

MIN_IOU = 0.5


def _get(cue: Any, key: str, default: Any = None) -> Any:
    """Read ``key`` from a mapping or an attribute of a dataclass-like object."""
    if isinstance(cue, Mapping):
        return cue.get(key, default)
    return getattr(cue, key, default)


def _rec_key(path: Any) -> str:
    """Normalise a recording path so that equal files compare equal."""
    return os.path.normpath(os.fspath(path))


def _span(cue: Any) -> tuple[float, float]:
    """(start, end) of a cue in episode seconds."""
    return float(_get(cue, "episode_start_s")), float(_get(cue, "episode_end_s"))


def temporal_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two time intervals (seconds).

    >>> temporal_iou((0, 10), (5, 15))
    0.3333333333333333
    >>> temporal_iou((0, 10), (10, 20))
    0.0
    """
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True if two time intervals (seconds) share a stretch of positive length."""
    return min(a[1], b[1]) > max(a[0], b[0])


def match_cues(
    songs: Sequence[Any], predicted: Sequence[Any], min_iou: float = MIN_IOU
) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching by IoU.

    Returns ``(song_index, predicted_index, iou)`` triples, best IoU first.
    Only pairs naming the same recording with IoU >= ``min_iou`` are eligible.
    """
    candidates = []
    for i, song in enumerate(songs):
        rec = _rec_key(_get(song, "recording"))
        for j, pred in enumerate(predicted):
            if _rec_key(_get(pred, "recording")) != rec:
                continue
            iou = temporal_iou(_span(song), _span(pred))
            if iou >= min_iou:
                candidates.append((iou, i, j))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_s, used_p, matches = set(), set(), []
    for iou, i, j in candidates:
        if i in used_s or j in used_p:
            continue
        used_s.add(i)
        used_p.add(j)
        matches.append((i, j, iou))
    return matches


def _mashup_groups(truth_cues: Sequence[Any]) -> list[list[int]]:
    """Connected groups of mashup cues (indices into ``truth_cues``).

    Two mashup cues belong together when either lists the other in
    ``overlaps_with``; without that field, when their time spans overlap.
    """
    idx = [i for i, c in enumerate(truth_cues)
           if _get(c, "kind") == "mashup" and _get(c, "expected", True)]
    parent = {i: i for i in idx}

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in idx:
        links = _get(truth_cues[i], "overlaps_with")
        if links is None:
            links = [j for j in idx if j != i and overlaps(_span(truth_cues[i]), _span(truth_cues[j]))]
        for j in links:
            if j in parent:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in idx:
        groups[find(i)].append(i)
    return [sorted(g) for g in groups.values()]


def _median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _count_score_reported(truth_cues: Sequence[Any], predicted: Sequence[Any]) -> int:
    """Predictions overlapping a score cue in time and naming no truth song's recording."""
    song_recs = {_rec_key(_get(c, "recording")) for c in truth_cues if _get(c, "expected", True)}
    score_spans = [_span(c) for c in truth_cues if not _get(c, "expected", True)]
    count = 0
    for pred in predicted:
        if _rec_key(_get(pred, "recording")) in song_recs:
            continue
        if any(overlaps(_span(pred), s) for s in score_spans):
            count += 1
    return count


def _usage(truth: Any) -> str:
    """The usage a truth song cue should get: background music sits 12-18 dB under the dialogue."""
    return "background" if _get(truth, "kind") == "background" else "foreground"


def _usage_scores(truth_cues: Sequence[Any], predicted: Sequence[Any],
                  matches: Sequence[tuple[int, int, float]]) -> tuple[int, dict[str, int]]:
    """Matched cues whose predicted ``foreground`` agrees with the truth, and a confusion count
    keyed ``"<truth>/<predicted>"`` (predictions without ``foreground`` count as ``"unknown"``)."""
    correct, confusion = 0, defaultdict(int)
    for t, j, _ in matches:
        flag = _get(predicted[j], "foreground")
        said = "unknown" if flag is None else ("foreground" if flag else "background")
        confusion[f"{_usage(truth_cues[t])}/{said}"] += 1
        correct += said == _usage(truth_cues[t])
    return correct, dict(sorted(confusion.items()))


def score_scan(
    truth_cues: Sequence[Any], predicted_cues: Sequence[Any], *, min_iou: float = MIN_IOU
) -> dict:
    """Score one episode's predicted cues against its truth cues.

    Returns a dict with:

    - ``precision``, ``recall``, ``f1``: cue-level, over truth *song* cues
      (``expected`` true); every unmatched prediction is a false positive.
    - ``recall_by_kind``: {kind: recall}; ``count_by_kind``: {kind: n truth cues}.
    - ``mashup_both_found``: fraction of mashups whose songs were all found
      (None if the episode has none); ``n_mashups``.
    - ``median_start_error_s``, ``median_end_error_s``: median absolute
      boundary error in seconds over matched cues (None if nothing matched).
    - ``median_recording_start_error_s``: same for ``recording_start_s``, over
      matched predictions that give it (None if none do).
    - ``start_errors_s``, ``end_errors_s``: the absolute boundary errors (s) of every match.
    - ``usage_correct``, ``usage_confusion``: see :func:`_usage_scores`.
    - ``score_reported``: predictions overlapping a score cue's time span and
      naming a recording that is none of the truth songs.
    - ``n_truth``, ``n_predicted``, ``n_matched``, ``matches`` (triples
      ``(truth_index, predicted_index, iou)``), ``missed`` (truth indices),
      ``false_positives`` (predicted indices).

    >>> truth = [{"kind": "sting", "recording": "/a.ogg", "episode_start_s": 10,
    ...           "episode_end_s": 18, "expected": True}]
    >>> r = score_scan(truth, [{"recording": "/a.ogg", "episode_start_s": 10.2,
    ...                         "episode_end_s": 18.0}])
    >>> (r["precision"], r["recall"], r["f1"], round(r["median_start_error_s"], 3))
    (1.0, 1.0, 1.0, 0.2)
    """
    song_idx = [i for i, c in enumerate(truth_cues) if _get(c, "expected", True)]
    songs = [truth_cues[i] for i in song_idx]
    local = match_cues(songs, predicted_cues, min_iou)
    matches = [(song_idx[i], j, iou) for i, j, iou in local]
    found = {t for t, _, _ in matches}

    n_truth, n_pred, n_match = len(songs), len(predicted_cues), len(matches)
    precision = n_match / n_pred if n_pred else (1.0 if n_truth == 0 else 0.0)
    recall = n_match / n_truth if n_truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    by_kind: dict[str, list[bool]] = defaultdict(list)
    for i in song_idx:
        by_kind[_get(truth_cues[i], "kind")].append(i in found)

    groups = _mashup_groups(truth_cues)
    both = [all(i in found for i in g) for g in groups]

    start_err = [abs(_span(predicted_cues[j])[0] - _span(truth_cues[t])[0]) for t, j, _ in matches]
    end_err = [abs(_span(predicted_cues[j])[1] - _span(truth_cues[t])[1]) for t, j, _ in matches]
    rec_err = [abs(float(_get(predicted_cues[j], "recording_start_s"))
                   - float(_get(truth_cues[t], "recording_start_s")))
               for t, j, _ in matches
               if _get(predicted_cues[j], "recording_start_s") is not None
               and _get(truth_cues[t], "recording_start_s") is not None]
    matched_pred = {j for _, j, _ in matches}
    usage_correct, usage_confusion = _usage_scores(truth_cues, predicted_cues, matches)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "recall_by_kind": {k: sum(v) / len(v) for k, v in sorted(by_kind.items())},
        "count_by_kind": {k: len(v) for k, v in sorted(by_kind.items())},
        "mashup_both_found": sum(both) / len(both) if both else None,
        "n_mashups": len(groups),
        "median_start_error_s": _median_or_none(start_err),
        "median_end_error_s": _median_or_none(end_err),
        "median_recording_start_error_s": _median_or_none(rec_err),
        "start_errors_s": start_err,
        "end_errors_s": end_err,
        "usage_correct": usage_correct,
        "usage_confusion": usage_confusion,
        "score_reported": _count_score_reported(truth_cues, predicted_cues),
        "n_truth": n_truth,
        "n_predicted": n_pred,
        "n_matched": n_match,
        "matches": matches,
        "missed": [i for i in song_idx if i not in found],
        "false_positives": [j for j in range(n_pred) if j not in matched_pred],
    }


# --------------------------------------------------------------------------- self-check

def _cue(kind, rec, start, end, expected=True, overlaps_with=None):
    return {"kind": kind, "recording": rec, "episode_start_s": start, "episode_end_s": end,
            "expected": expected, "overlaps_with": overlaps_with or []}


def _self_check() -> None:
    """Assertions covering matching, per-kind recall, mashups and score reports."""
    truth = [
        _cue("full", "/lib/a.ogg", 0, 100),
        _cue("mashup", "/lib/b.ogg", 200, 240, overlaps_with=[2]),
        _cue("mashup", "/lib/c.ogg", 200, 240, overlaps_with=[1]),
        _cue("score", "/unindexed/s.ogg", 300, 360, expected=False),
        _cue("sting", "/lib/d.ogg", 400, 407),
    ]
    perfect = [{"recording": c["recording"], "episode_start_s": c["episode_start_s"],
                "episode_end_s": c["episode_end_s"]} for c in truth if c["expected"]]
    r = score_scan(truth, perfect)
    assert (r["precision"], r["recall"], r["f1"]) == (1.0, 1.0, 1.0), r
    assert r["mashup_both_found"] == 1.0 and r["n_mashups"] == 1
    assert r["score_reported"] == 0 and r["median_start_error_s"] == 0
    assert r["usage_confusion"] == {"foreground/unknown": 4} and r["usage_correct"] == 0
    said = [dict(c, foreground=c["recording"] != "/lib/d.ogg") for c in perfect]
    r = score_scan(truth, said)
    assert r["usage_correct"] == 3 and r["usage_confusion"] == {"foreground/background": 1, "foreground/foreground": 3}
    assert r["median_recording_start_error_s"] is None
    r = score_scan([dict(truth[0], recording_start_s=12.0)],
                   [dict(perfect[0], recording_start_s=12.25)])
    assert r["median_recording_start_error_s"] == 0.25

    preds = [
        {"recording": "/lib/a.ogg", "episode_start_s": 0.4, "episode_end_s": 99.0},   # hit
        {"recording": "/lib/a.ogg", "episode_start_s": 1.0, "episode_end_s": 98.0},   # duplicate -> FP
        {"recording": "/lib/b.ogg", "episode_start_s": 201, "episode_end_s": 240},    # one mashup half
        {"recording": "/lib/x.ogg", "episode_start_s": 310, "episode_end_s": 330},    # score reported
        {"recording": "/lib/d.ogg", "episode_start_s": 420, "episode_end_s": 425},    # wrong place
    ]
    r = score_scan(truth, preds)
    assert r["n_matched"] == 2 and r["precision"] == 2 / 5 and r["recall"] == 2 / 4, r
    assert r["recall_by_kind"] == {"full": 1.0, "mashup": 0.5, "sting": 0.0}, r
    assert r["mashup_both_found"] == 0.0
    assert r["score_reported"] == 1
    assert r["missed"] == [2, 4] and r["false_positives"] == [1, 3, 4], r
    assert abs(r["median_start_error_s"] - 0.7) < 1e-9 and abs(r["median_end_error_s"] - 0.5) < 1e-9

    # IoU threshold: 50 s of a 100 s cue -> IoU 0.5 counts, less does not.
    assert score_scan(truth[:1], [{"recording": "/lib/a.ogg", "episode_start_s": 0,
                                   "episode_end_s": 50}])["n_matched"] == 1
    assert score_scan(truth[:1], [{"recording": "/lib/a.ogg", "episode_start_s": 0,
                                   "episode_end_s": 49}])["n_matched"] == 0
    # Greedy by IoU: the better prediction wins even if listed second.
    r = score_scan(truth[:1], [{"recording": "/lib/a.ogg", "episode_start_s": 20, "episode_end_s": 100},
                               {"recording": "/lib/a.ogg", "episode_start_s": 1, "episode_end_s": 100}])
    assert r["matches"][0][1] == 1 and r["false_positives"] == [0]
    # Nothing predicted, nothing expected.
    assert score_scan([], [])["f1"] == 1.0


if __name__ == "__main__":
    import doctest

    _self_check()
    failures, _ = doctest.testmod()
    if failures:
        raise SystemExit(1)
    print("scan_metrics self-check OK")
