"""Synced lyrics in the LRC format: parsing (strictly, with line numbers in errors) and look-up by time.

What is read::

    [ti:Song] [ar:Artist] [al:…] [by:…] [length:3:20] [#:comment]   ID tags: accepted, ignored
    [offset:+250]                 milliseconds; positive shows every line sooner (time = tag − offset)
    [00:12.34]First line          minutes:seconds with .xx hundredths (or .x / .xxx, or :xx)
    [00:20.00][01:15.50]Chorus    several time tags: the line is sung at each of those times
    [00:31.00]                    a timed empty line: a pause (text "")
    [00:40.00]<00:40.10>word <00:40.60>by word   enhanced-LRC word times are dropped

Anything else that is not blank (plain text, a malformed time such as ``[01:75.00]``) is an error
naming the line, so a plain-text lyrics file is refused rather than stored untimed.
"""

from __future__ import annotations

import bisect
import re

from ..errors import CatalogError
from .results import LyricLine

#: Longest LRC text accepted (characters): far more than any song needs.
MAX_LRC_CHARS = 200_000

_TIME = re.compile(r"\[(\d{1,4}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_ID_TAG = re.compile(r"\[([A-Za-z#]+)\s*:(.*)\]")
_WORD_TIME = re.compile(r"<\d{1,4}:\d{1,2}(?:[.:]\d{1,3})?>")
_OFFSET = re.compile(r"[+-]?\d+")


def parse_lrc(text: str) -> list[LyricLine]:
    """The timed lines of an LRC file in time order, each with the start of the next.

    Raises :class:`~soundtrack.errors.CatalogError` naming the first bad line, or when there is no
    timed line at all.
    """
    if len(text) > MAX_LRC_CHARS:
        raise CatalogError(f"LRC text is too long ({len(text)} characters; at most {MAX_LRC_CHARS})")
    timed: list[tuple[float, int, str]] = []  # (seconds, order in the file, text)
    offset_s = 0.0
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        times, rest = _leading_times(line, number)
        if times:
            words = re.sub(r"\s+", " ", _WORD_TIME.sub("", rest)).strip()
            timed.extend((t, len(timed), words) for t in times)
            continue
        tag = _ID_TAG.fullmatch(line)
        if tag is None:
            raise CatalogError(f"LRC line {number} has no [mm:ss.xx] time tag: {_quote(line)}")
        if tag.group(1).lower() == "offset":
            value = tag.group(2).strip()
            if not _OFFSET.fullmatch(value):
                raise CatalogError(f"LRC line {number}: offset must be whole milliseconds, not {value!r}")
            offset_s = int(value) / 1000
    if not timed:
        raise CatalogError("LRC text has no timed lines ([mm:ss.xx] tags)")
    timed.sort()
    starts = [max(0.0, t - offset_s) for t, _order, _text in timed]
    ends: list[float | None] = [*starts[1:], None]
    return [LyricLine(text=words, start_s=start, next_start_s=end)
            for (_t, _order, words), start, end in zip(timed, starts, ends, strict=True)]


def line_at(lines: list[LyricLine], at_s: float) -> LyricLine | None:
    """The line being sung ``at_s`` seconds into the recording: the last one started by then
    (None before the first line)."""
    i = bisect.bisect_right([line.start_s for line in lines], at_s)
    return lines[i - 1] if i else None


def _leading_times(line: str, number: int) -> tuple[list[float], str]:
    """The time tags at the start of ``line`` (seconds) and the text after them."""
    times: list[float] = []
    pos = 0
    while m := _TIME.match(line, pos):
        minutes, seconds, fraction = m.groups()
        if int(seconds) >= 60:
            raise CatalogError(f"LRC line {number}: {m.group(0)} has {seconds} seconds (at most 59)")
        times.append(int(minutes) * 60 + int(seconds) + (float(f"0.{fraction}") if fraction else 0.0))
        pos = m.end()
        while pos < len(line) and line[pos] in " \t":
            pos += 1
    return times, line[pos:]


def _quote(line: str, width: int = 60) -> str:
    return repr(line if len(line) <= width else line[: width - 1] + "…")
