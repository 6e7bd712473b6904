"""Validation and characterization of files, where a well-kept library exists.

PDF with pikepdf (qpdf), raster images with Pillow, XML with lxml (well-formed; schema-valid where a
schema is declared and available offline), audio/video with ffprobe. Results are PREMIS
``objectCharacteristics`` and ``validation`` events; a file no characterizer understands is
"not checked", never "valid".
"""

from preservation.characterize.av import AvCharacterizer
from preservation.characterize.base import CharacterizeOptions, Characterizer, characterize
from preservation.characterize.image import ImageCharacterizer
from preservation.characterize.pdf import PdfCharacterizer
from preservation.characterize.xml import XmlCharacterizer


def characterizers(options: CharacterizeOptions) -> list[Characterizer]:
    """The characterizers, configured."""
    return [
        PdfCharacterizer(),
        ImageCharacterizer(),
        XmlCharacterizer(catalog=options.xml_schema_catalog, search_root=options.xml_search_root),
        AvCharacterizer(ffprobe=options.ffprobe, timeout=options.ffprobe_timeout),
    ]


__all__ = [
    "AvCharacterizer",
    "CharacterizeOptions",
    "Characterizer",
    "ImageCharacterizer",
    "PdfCharacterizer",
    "XmlCharacterizer",
    "characterize",
    "characterizers",
]
