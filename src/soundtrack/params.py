"""The parameters that define an index.

Every constant that changes which hashes a recording produces lives here, in one frozen dataclass,
with its meaning in physical units. The parameters are stored with the library: a library built
with one set of parameters cannot be queried with another (:class:`IndexMismatchError`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class FingerprintParams:
    """How audio becomes landmark hashes.

    Time is counted in STFT frames of ``hop`` samples at ``sample_rate`` (16 ms with the defaults),
    frequency in FFT bins of ``sample_rate / n_fft`` Hz (15.6 Hz with the defaults).
    """

    #: Audio is decoded to mono at this rate (Hz). 8 kHz keeps 0–4 kHz, where melody, bass and
    #: voice live and where phone microphones and low-bitrate codecs still carry music.
    sample_rate: int = 8000
    #: FFT size and Hann window length (samples): 512 = 64 ms, bins of 15.6 Hz.
    n_fft: int = 512
    #: Hop between frames (samples): 128 = 16 ms, so a peak's time is known to about ±8 ms.
    hop: int = 128
    #: Lowest and highest FFT bin searched for peaks: bin 20 = 312 Hz, bin 218 = 3.4 kHz, the band
    #: a telephone channel keeps. Bass below it would make landmarks a phone recording never has.
    min_bin: int = 20
    max_bin: int = 218
    #: Half-size of the neighbourhood a peak must dominate: ±5 frames (±80 ms) and ±6 bins (±94 Hz).
    peak_half_frames: int = 5
    peak_half_bins: int = 6
    #: A peak must stand this many dB above the mean level of its surroundings (a box of
    #: ±``background_half_frames`` frames and ±``background_half_bins`` bins).
    peak_min_prominence_db: float = 6.0
    background_half_frames: int = 15
    #: ...and this many dB above the mean of its own bin over the same ±15 frames (±240 ms).
    #: 0 dB by default (a peak is at least its bin's average): on the benchmark, 3 dB cost 13 points
    #: of recall under dialogue and 5 through a phone while removing few peaks.
    peak_min_onset_db: float = 0.0
    background_half_bins: int = 12
    #: A peak must be at most this many dB below the loudest bin of the surrounding
    #: ±``loudest_half_frames`` frames (±31 = about 1 s), so the reverb tail and noise floor of a
    #: quiet passage do not make landmarks.
    peak_max_below_loudest_db: float = 45.0
    loudest_half_frames: int = 31
    #: Each anchor peak is grouped with the ``fan_out`` nearest later peaks at ``min_dt``..``max_dt``
    #: frames (16 ms to 1 s later) and within ±``max_df`` bins (±484 Hz); each pair of those forms
    #: a triplet with the anchor: fan_out 3 → 3 hashes per peak in the index.
    fan_out: int = 3
    #: Queries group each anchor with more neighbours (10 → 45 triplets per peak): extra peaks that
    #: noise or dialogue add to a query then cannot push the index's partners out of reach. Costs
    #: only query time.
    query_fan_out: int = 10
    #: A triplet's time and frequency offsets are stored divided by these steps (1 = exact), so a
    #: peak that moves by one frame or bin (reverb, codecs, a phone) keeps its hash; queries look up
    #: both neighbouring cells. See ``hashes.landmarks``.
    hash_frame_step: int = 2
    hash_bin_step: int = 1
    #: Also store which peak of each pair is louder (2 bits): fewer chance matches, robust because
    #: the peaks of a triplet are close in frequency. Needs ``hash_frame_step >= 2``.
    hash_level_bits: bool = True
    min_dt: int = 1
    max_dt: int = 63
    max_df: int = 31

    @property
    def frame_s(self) -> float:
        """Duration of one STFT hop (seconds)."""
        return self.hop / self.sample_rate

    @property
    def bin_hz(self) -> float:
        """Width of one FFT bin (Hz)."""
        return self.sample_rate / self.n_fft

    def frames_to_seconds(self, frames: float) -> float:
        """Convert a frame count (or position) to seconds."""
        return frames * self.hop / self.sample_rate

    def seconds_to_frames(self, seconds: float) -> float:
        """Convert seconds to a (fractional) frame count."""
        return seconds * self.sample_rate / self.hop

    def to_json(self) -> str:
        """Serialise for storage next to an index."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FingerprintParams:
        """Inverse of :meth:`to_json`; unknown keys are rejected."""
        return cls(**json.loads(text))


DEFAULT_PARAMS = FingerprintParams()
