"""TT 05/2025 technical parameters of digitised records: the floors a file is measured against.

TT 05/2025 Điều 8 (vn-standards.md §2.1): paper records as PDF/A "hai lớp" (image + invisible
text), colour as the original, at least 24-bit, 200 dpi (300 dpi for maps and drawings); photos
and negatives at least 200 dpi; video at least 1500 kbps; audio at least 128 kbps (one source
says 1500 kbps: the figure is configurable). NĐ 30/2020 PL I asks 200 dpi colour for văn bản số
hóa too.

A plain frozen dataclass on purpose: the policy registry builds it from
``config/planning/formats.toml`` ``[parameters]``; the characterizers only read it. The
measurements never make a file invalid: they are reported (pass, below the floor, unknown).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TechnicalParameters:
    """The floors. Attributes:
    text_dpi: dots per inch of digitised text documents (TT 05 Điều 8: 200).
    map_dpi: dots per inch of maps and technical drawings (TT 05 Điều 8: 300). A file does not
        say it is a map, so the per-file check uses the lower of ``text_dpi`` and ``photo_dpi``;
        the map floor is for a policy that knows the series.
    photo_dpi: dots per inch of photos and negatives (TT 05 Điều 8: 200).
    colour_depth: bits per pixel of a colour image (TT 05 Điều 8: 24). Grey and bilevel images
        are reported below it, "unless the original is monochrome", which only a person knows.
    audio_kbps: audio bit rate floor in kilobits per second (TT 05 Điều 8 per S1: 128).
    video_kbps: video bit rate floor in kilobits per second (TT 05 Điều 8: 1500).
    """

    text_dpi: int = 200
    map_dpi: int = 300
    photo_dpi: int = 200
    colour_depth: int = 24
    audio_kbps: int = 128
    video_kbps: int = 1500

    @property
    def image_dpi(self) -> int:
        """The resolution floor applied to a single image or scanned page of unknown kind."""
        return min(self.text_dpi, self.photo_dpi)
