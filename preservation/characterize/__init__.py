"""Validation and characterization of files, where a well-kept library exists.

PDF with pikepdf (qpdf), its PDF/A claim checked (``pdfa``), raster images with Pillow, JPEG 2000
with jpylyzer, XML with lxml (well-formed; schema-valid where a schema is declared and available
offline), audio/video with ffprobe, office documents and e-books with lxml/olefile and
LibreOffice's own load, and whatever external validator the deployer configures (veraPDF,
JHOVE). TT 05/2025 technical parameters (resolution, colour depth, bit rates, the PDF text layer)
are measured on the way. Results are PREMIS ``objectCharacteristics`` and ``validation`` events;
a file no characterizer understands is "not checked", never "valid".
"""

from preservation.characterize.av import AvCharacterizer
from preservation.characterize.base import CharacterizeOptions, Characterizer, characterize
from preservation.characterize.external import ExternalCharacterizer
from preservation.characterize.image import ImageCharacterizer
from preservation.characterize.jp2 import Jp2Characterizer
from preservation.characterize.libreoffice import LibreOfficeCharacterizer, LibreOfficeLoader
from preservation.characterize.office import OfficeCharacterizer
from preservation.characterize.pdf import PdfCharacterizer
from preservation.characterize.pdfa import PdfaCharacterizer
from preservation.characterize.xml import XmlCharacterizer
from preservation.validation_config import ExternalValidator, OfficeLoad


def characterizers(options: CharacterizeOptions) -> list[Characterizer]:
    """The characterizers, configured; the external validators run after ours."""
    load = OfficeLoad(options.office_load)
    params = options.parameters
    chosen: list[Characterizer] = [
        PdfCharacterizer(parameters=params),
        PdfaCharacterizer(),
        ImageCharacterizer(parameters=params),
        Jp2Characterizer(),
        XmlCharacterizer(catalog=options.xml_schema_catalog, search_root=options.xml_search_root),
        AvCharacterizer(ffprobe=options.ffprobe, timeout=options.ffprobe_timeout, parameters=params),
        OfficeCharacterizer(load=load),
        LibreOfficeCharacterizer(
            LibreOfficeLoader(options.soffice, options.soffice_timeout),
            only_without_parser=load is OfficeLoad.PARSER,
        ),
    ]
    chosen.extend(ExternalCharacterizer(v) for v in options.external)
    return chosen


__all__ = [
    "AvCharacterizer",
    "CharacterizeOptions",
    "Characterizer",
    "ExternalCharacterizer",
    "ExternalValidator",
    "ImageCharacterizer",
    "Jp2Characterizer",
    "LibreOfficeCharacterizer",
    "LibreOfficeLoader",
    "OfficeCharacterizer",
    "OfficeLoad",
    "PdfCharacterizer",
    "PdfaCharacterizer",
    "XmlCharacterizer",
    "characterize",
    "characterizers",
]
