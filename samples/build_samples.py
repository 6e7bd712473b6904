"""Build the sample submissions (SIPs) that `scripts/demo` ingests.

Every file is assembled here byte by byte (PDF syntax with computed cross-reference offsets, PNG
chunks through zlib, uncompressed TIFF, OOXML/ODF parts zipped with fixed dates, BagIt manifests),
so running the script twice, or on another machine, gives identical files; a test regenerates them
and compares digests with the committed copies. The documents are invented but shaped like real
records of a provincial People's Committee (UBND tỉnh An Giang).

Usage: python samples/build_samples.py [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZIP_DATE = (2025, 3, 14, 9, 30, 0)
FOLDER = "sip-folder-quyet-dinh"
BAG = "sip-bag-cong-van"
ZIP = "sip-zip-bao-cao.zip"
TT05 = "sip-tt05-hoso-so-hoa.zip"
ND30 = "legacy-nd30-so-noi-vu"
MUC_LUC = "legacy-muc-luc-so-tu-phap"


# --------------------------------------------------------------------------------------- PDF


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4 with Helvetica text (ASCII in the page, the Vietnamese title in /Info)."""
    text = ["BT", "/F1 16 Tf", "72 760 Td", "20 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text.append(f"({escaped}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("ascii")
    title_utf16 = "FEFF" + title.encode("utf-16-be").hex().upper()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title <" + title_utf16.encode() + b"> /Author (UBND tinh An Giang) /Creator (Kho Luu samples) "
        b"/CreationDate (D:20250314093000+07'00') >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    doc_id = hashlib.md5(bytes(out)).hexdigest()  # a stable /ID derived from the content
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R /ID [<{doc_id}> <{doc_id}>] >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


# --------------------------------------------------------------------------------------- images


def png(width: int, height: int, colour: tuple[int, int, int], stripe: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(stripe if (x // 8 + y // 8) % 2 else colour)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    phys = struct.pack(">IIB", 7874, 7874, 1)  # 200 dpi (TT 05 Điều 8 minimum for scans)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"pHYs", phys)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def tiff(width: int, height: int) -> bytes:
    """Uncompressed 8-bit greyscale baseline TIFF (little-endian), 300 dpi."""
    pixels = bytes(
        ((x * 255) // max(width - 1, 1)) ^ ((y // 4) % 2) * 64 for y in range(height) for x in range(width)
    )
    entries = [
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 0),
        (277, 3, 1, 1),
        (278, 3, 1, height),
        (279, 4, 1, len(pixels)),
        (282, 5, 1, 0),
        (283, 5, 1, 0),
        (296, 3, 1, 2),
    ]
    ifd_offset = 8
    ifd_size = 2 + 12 * len(entries) + 4
    res_offset = ifd_offset + ifd_size
    data_offset = res_offset + 16
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_offset) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        if tag == 273:
            value = data_offset
        elif tag == 282:
            value = res_offset
        elif tag == 283:
            value = res_offset + 8
        if kind == 3:
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    out += struct.pack("<I", 0)
    out += struct.pack("<IIII", 300, 1, 300, 1)
    return bytes(out + pixels)


# --------------------------------------------------------------------------------------- office


def _zip(parts: list[tuple[str, str | bytes]], *, stored_first: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (name, content) in enumerate(parts):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if (stored_first and i == 0) else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)
    return buf.getvalue()


XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def docx(paragraphs: list[str]) -> bytes:
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{_esc(p)}</w:t></w:r></w:p>' for p in paragraphs)
    return _zip(
        [
            (
                "[Content_Types].xml",
                XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                'wordprocessingml.document.main+xml"/>'
                '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
                'core-properties+xml"/></Types>',
            ),
            (
                "_rels/.rels",
                XML_DECL
                + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'officeDocument" Target="word/document.xml"/>'
                '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
                'core-properties" Target="docProps/core.xml"/></Relationships>',
            ),
            (
                "word/document.xml",
                XML_DECL
                + '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f"<w:body>{body}</w:body></w:document>",
            ),
            ("docProps/core.xml", _core(paragraphs[0])),
        ]
    )


def xlsx(rows: list[list[str | int]]) -> bytes:
    sheet_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if isinstance(value, int):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{_esc(value)}</t></is></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return _zip(
        [
            (
                "[Content_Types].xml",
                XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                'spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.worksheet+xml"/>'
                '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
                'core-properties+xml"/></Types>',
            ),
            (
                "_rels/.rels",
                XML_DECL
                + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
                '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
                'core-properties" Target="docProps/core.xml"/></Relationships>',
            ),
            (
                "xl/workbook.xml",
                XML_DECL + f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                '<sheet name="Thống kê" sheetId="1" r:id="rId1"/></sheets></workbook>',
            ),
            (
                "xl/_rels/workbook.xml.rels",
                XML_DECL
                + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
            ),
            (
                "xl/worksheets/sheet1.xml",
                XML_DECL + f'<worksheet xmlns="{main}"><sheetData>{"".join(sheet_rows)}'
                "</sheetData></worksheet>",
            ),
            ("docProps/core.xml", _core(str(rows[0][0]))),
        ]
    )


def odt(paragraphs: list[str]) -> bytes:
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    body = "".join(f"<text:p>{_esc(p)}</text:p>" for p in paragraphs)
    return _zip(
        [
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            (
                "META-INF/manifest.xml",
                XML_DECL
                + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                'manifest:version="1.3">'
                '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
                'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>",
            ),
            (
                "content.xml",
                XML_DECL + f'<office:document-content xmlns:office="{office}" xmlns:text="{text_ns}" '
                f'office:version="1.3"><office:body><office:text>{body}</office:text></office:body>'
                "</office:document-content>",
            ),
            (
                "meta.xml",
                XML_DECL + f'<office:document-meta xmlns:office="{office}" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/" '
                'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3">'
                f"<office:meta><dc:title>{_esc(paragraphs[0])}</dc:title>"
                "<meta:creation-date>2025-03-14T09:30:00</meta:creation-date></office:meta>"
                "</office:document-meta>",
            ),
        ],
        stored_first=True,
    )


def _core(title: str) -> str:
    return (
        XML_DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{_esc(title)}</dc:title><dc:creator>Văn phòng UBND tỉnh An Giang</dc:creator>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2025-03-14T09:30:00Z</dcterms:created></cp:coreProperties>'
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------------------- XML


DANH_MUC_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Lược đồ của danh mục hồ sơ mẫu (a sample dossier list schema for the demo). -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:element name="danhMucHoSo">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="hoSo" maxOccurs="unbounded">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="maHoSo" type="xs:string"/>
              <xs:element name="tieuDe" type="xs:string"/>
              <xs:element name="thoiHanLuuTru" type="xs:string"/>
              <xs:element name="soTo" type="xs:positiveInteger"/>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="coQuan" type="xs:string" use="required"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""

DANH_MUC_XML = """<?xml version="1.0" encoding="UTF-8"?>
<danhMucHoSo xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
             xsi:noNamespaceSchemaLocation="danh-muc-ho-so.xsd" coQuan="UBND tỉnh An Giang">
  <hoSo>
    <maHoSo>000.00.35.H01.2025.12.QĐ</maHoSo>
    <tieuDe>Hồ sơ ban hành Quyết định số 12/QĐ-UBND về lưu trữ tài liệu điện tử</tieuDe>
    <thoiHanLuuTru>01</thoiHanLuuTru>
    <soTo>3</soTo>
  </hoSo>
  <hoSo>
    <maHoSo>000.00.35.H01.2025.05.TTr</maHoSo>
    <tieuDe>Tờ trình số 05/TTr-SNV về kế hoạch số hóa</tieuDe>
    <thoiHanLuuTru>01</thoiHanLuuTru>
    <soTo>2</soTo>
  </hoSo>
</danhMucHoSo>
"""

MO_TA_XML = """<?xml version="1.0" encoding="UTF-8"?>
<moTaHoSo>
  <tieuDe>Công văn số 45/UBND-VP về việc nộp lưu tài liệu điện tử vào Lưu trữ lịch sử</tieuDe>
  <coQuanBanHanh>Văn phòng UBND tỉnh An Giang</coQuanBanHanh>
  <ngayBanHanh>12/03/2024</ngayBanHanh>
  <mucDoTiepCan>01</mucDoTiepCan>
</moTaHoSo>
"""

BAO_CAO_XML = """<?xml version="1.0" encoding="UTF-8"?>
<baoCao nam="2024">
  <chiTieu ten="Tỷ lệ tài liệu tạo lập dạng điện tử" giaTri="82" donVi="%"/>
  <chiTieu ten="Tỷ lệ hồ sơ vĩnh viễn nộp lưu trong 3 năm" giaTri="76" donVi="%"/>
  <chiTieu ten="Số hồ sơ đã số hóa" giaTri="1250" donVi="hồ sơ"/>
</baoCao>
"""


# --------------------------------------------------------------------------------------- the three SIPs


def folder_files() -> dict[str, bytes]:
    return {
        "Quyết định số 12.pdf": pdf(
            "Quyết định số 12/QĐ-UBND về lưu trữ tài liệu điện tử",
            [
                "UY BAN NHAN DAN TINH AN GIANG",
                "So: 12/QD-UBND",
                "QUYET DINH",
                "Ve viec luu tru tai lieu dien tu",
                "An Giang, ngay 14 thang 3 nam 2025",
            ],
        ),
        "Tờ trình số 05.docx": docx(
            [
                "Tờ trình số 05/TTr-SNV",
                "Về kế hoạch số hóa tài liệu lưu trữ giai đoạn 2025–2027.",
                "Kính gửi: Ủy ban nhân dân tỉnh An Giang.",
            ]
        ),
        "anh-tru-so-ubnd.png": png(96, 64, (196, 30, 58), (255, 205, 0)),
        "danh-muc-ho-so.xml": DANH_MUC_XML.encode("utf-8"),
        "danh-muc-ho-so.xsd": DANH_MUC_XSD.encode("utf-8"),
    }


def bag_payload() -> dict[str, bytes]:
    return {
        "Công văn số 45-UBND-VP.pdf": pdf(
            "Công văn số 45/UBND-VP về việc nộp lưu tài liệu điện tử",
            [
                "VAN PHONG UBND TINH AN GIANG",
                "So: 45/UBND-VP",
                "V/v nop luu tai lieu dien tu vao Luu tru lich su",
                "An Giang, ngay 12 thang 3 nam 2024",
            ],
        ),
        "Bảng thống kê hồ sơ 2024.xlsx": xlsx(
            [
                ["Đơn vị", "Số hồ sơ", "Vĩnh viễn"],
                ["Văn phòng UBND", 120, 45],
                ["Sở Nội vụ", 88, 30],
                ["Sở Tài chính", 64, 12],
            ]
        ),
        "so-do-kho-luu-tru.tif": tiff(64, 48),
        "mo-ta-ho-so.xml": MO_TA_XML.encode("utf-8"),
    }


def zip_files() -> dict[str, bytes]:
    return {
        "Báo cáo tổng kết năm 2024.pdf": pdf(
            "Báo cáo tổng kết công tác lưu trữ năm 2024",
            [
                "SO NOI VU TINH AN GIANG",
                "BAO CAO TONG KET CONG TAC LUU TRU NAM 2024",
                "An Giang, ngay 20 thang 1 nam 2025",
            ],
        ),
        "Kế hoạch năm 2025.odt": odt(
            [
                "Kế hoạch công tác văn thư, lưu trữ năm 2025",
                "Triển khai Luật Lưu trữ số 33/2024/QH15.",
                "Hoàn thành nộp lưu hồ sơ điện tử có thời hạn lưu trữ vĩnh viễn.",
            ]
        ),
        "bieu-do-chi-tieu.png": png(80, 80, (0, 94, 184), (240, 240, 240)),
        "du-lieu-bao-cao.xml": BAO_CAO_XML.encode("utf-8"),
        # A macOS user's file name: NFD, kept byte for byte through ingest.
        unicodedata.normalize("NFD", "Thông báo số 7.txt"): (
            "Thông báo số 7/TB-SNV về lịch nộp lưu hồ sơ năm 2025.\n".encode()
        ),
    }


BAG_INFO = [
    ("Source-Organization", "UBND tỉnh An Giang"),
    ("Organization-Address", "Số 12 Lê Lợi, phường Mỹ Bình, thành phố Long Xuyên, tỉnh An Giang"),
    ("Contact-Name", "Nguyễn Thị Lan"),
    ("Contact-Email", "vanthu@angiang.gov.vn"),
    ("External-Identifier", "AG-2024-CV-045"),
    ("External-Description", "Công văn số 45/UBND-VP và tài liệu kèm theo, nộp lưu vào Lưu trữ lịch sử tỉnh"),
    ("Bagging-Date", "2025-03-14"),
]


# --------------------------------------------------------------------------------------- TT 05 SIP_hoso

TT05_FILE_CODE = "000.00.27.H01.2024.05.VP"  # mã định danh (QĐ 20/2020 shape) . năm . số và ký hiệu
TT05_OBJID = "uuid-5B0D2C1E-7A43-4F6B-9C21-0E8D4A3B2F10"
TT05_CREATED = (2025, 3, 14, 9, 30, 0)


def tt05_hoso() -> tuple[dict[str, str], list[tuple[str, str, dict[str, str], bytes]]]:
    """A hồ sơ of Văn phòng UBND tỉnh about the digitization plan: package values and, per
    document, (kind, data file name, EAD values, bytes). Values follow config/tt05/elements.toml."""
    package = {
        "fileCode": TT05_FILE_CODE,
        "title": "Hồ sơ về việc triển khai số hóa tài liệu lưu trữ của Văn phòng UBND tỉnh năm 2024",
        "maintenance": "01",
        "mode": "01",
        "language": "01",
        "startDate": "08/01/2024",
        "endDate": "27/12/2024",
        "keyword": "số hóa; tài liệu lưu trữ; kế hoạch",
        "totalDoc": "3",
        "numberOfPage": "9",
        "confidenceLevel": "01",
        "riskRecovery": "1",
        "riskRecoveryStatus": "01",
        "description": "Người lập hồ sơ: Lê Thị Mai, chuyên viên Văn phòng UBND tỉnh",
    }
    common = {
        "maintenance": "01",
        "language": "01",
        "mode": "01",
        "riskRecovery": "1",
        "riskRecoveryStatus": "02",
    }
    documents = [
        (
            "doc",
            "Kế hoạch số 15-KH-UBND.pdf",
            {
                "docId": "000.00.27.H01.2024.15",
                "docCode": f"{TT05_FILE_CODE}.0000001",
                "typeName": "10",
                "codeNumber": "15",
                "codeNotation": "KH-UBND",
                "issuedDate": "08/01/2024",
                "organName": "Ủy ban nhân dân tỉnh An Giang",
                "subject": "Kế hoạch số hóa tài liệu lưu trữ của các cơ quan nhà nước tỉnh An Giang năm 2024",
                "numberOfPage": "4",
                "confidenceLevel": "01",
                "process": "0",
                **common,
            },
            pdf(
                "Kế hoạch số 15/KH-UBND số hóa tài liệu lưu trữ năm 2024",
                [
                    "UY BAN NHAN DAN TINH AN GIANG",
                    "So: 15/KH-UBND",
                    "KE HOACH",
                    "So hoa tai lieu luu tru nam 2024",
                ],
            ),
        ),
        (
            "doc",
            "Báo cáo số 210-BC-VP.docx",
            {
                "docId": "000.00.27.H01.2024.210",
                "docCode": f"{TT05_FILE_CODE}.0000002",
                "typeName": "14",
                "codeNumber": "210",
                "codeNotation": "BC-VP",
                "issuedDate": "27/12/2024",
                "organName": "Văn phòng Ủy ban nhân dân tỉnh An Giang",
                "subject": "Báo cáo kết quả số hóa tài liệu lưu trữ năm 2024",
                "numberOfPage": "5",
                "confidenceLevel": "01",
                "process": "0",
                **common,
            },
            docx(["Báo cáo số 210/BC-VP", "Kết quả số hóa tài liệu lưu trữ năm 2024: 1.250 hồ sơ."]),
        ),
        (
            "pic",
            "anh-kho-luu-tru.png",
            {
                "docCode": f"{TT05_FILE_CODE}.0000003",
                "maintenance": "01",
                "typePic": "02",
                "imageTitle": "Kho lưu trữ của Văn phòng UBND tỉnh sau khi chỉnh lý",
                "photographer": "Trần Minh Đức",
                "photoPlace": "Thành phố Long Xuyên",
                "photoTime": "15/06/2024",
                "colour": "01",
                "mode": "01",
                "riskRecovery": "0",
            },
            png(96, 64, (0, 122, 61), (255, 255, 255)),
        ),
    ]
    return package, documents


def write_tt05(dest: Path) -> None:
    """A TT 05/2025 SIP_hoso written by our own SIP builder (so it shows what agencies send and
    what ingest checks), with fixed identifiers and dates so the ZIP is identical every time."""
    import sys
    import tempfile
    import uuid
    from datetime import datetime
    from zoneinfo import ZoneInfo

    sys.path.insert(0, str(HERE.parent))
    from preservation.mets import IdSource
    from preservation.tt05.model import Description, DocumentKind, DocumentRecord, PackageType, RecordSet
    from preservation.tt05.sip import build_sip
    from preservation.tt05.tables import Variant, load_tables

    class FixedIds(IdSource):
        def __init__(self) -> None:
            self.n = 0

        def new(self) -> str:
            self.n += 1
            return f"uuid-{uuid.uuid5(uuid.NAMESPACE_URL, f'kholuu-sample-{self.n}')}"

    package, documents = tt05_hoso()
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        docs = []
        for i, (kind, name, values, content) in enumerate(documents):
            path = Path(tmp) / f"{i}.bin"
            path.write_bytes(content)
            files[("rep1", name)] = path
            variant = Variant.PIC_SIP if kind == "pic" else Variant.DOC_SIP
            docs.append(DocumentRecord(DocumentKind(kind), Description(variant, name, values), (name,)))
        records = RecordSet(
            PackageType.SIP_HOSO, Description(Variant.HOSO_SIP, "EAD.xml", package), tuple(docs)
        )
        folder = build_sip(
            records,
            files,
            Path(tmp) / "out",
            load_tables(),
            label=package["title"],
            submitter="Văn phòng UBND tỉnh An Giang",
            software_version="0.1.0",
            objid=TT05_OBJID,
            created=datetime(*TT05_CREATED, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
            ids=FixedIds(),
        )
        write_zip(
            dest,
            folder.name,
            {
                p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            },
        )


# --------------------------------------------------------------------------------------- legacy exports

ND30_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Export of the Sở Nội vụ document system built to Nghị định 30/2020/NĐ-CP Phụ lục VI -->
<DanhSachHoSo>
  <HoSo>
    <FileCode><OrganId>000.00.27.H02</OrganId><FileCatalog>2023</FileCatalog><FileNotation>12.TCCB</FileNotation></FileCode>
    <Title>Hồ sơ về việc tuyển dụng công chức tỉnh An Giang năm 2023</Title>
    <Maintenance>Vĩnh viễn</Maintenance>
    <Rights>Thường</Rights>
    <Creator>Phạm Văn Hùng</Creator>
    <Language>Tiếng Việt</Language>
    <StartDate>06/02/2023</StartDate>
    <EndDate>29/12/2023</EndDate>
    <DocTotal>2</DocTotal>
    <PageTotal>5</PageTotal>
    <VanBan>
      <DocOrdinal>1</DocOrdinal>
      <TypeName>Kế hoạch</TypeName>
      <CodeNumber>08</CodeNumber>
      <CodeNotation>KH-SNV</CodeNotation>
      <IssuedDate>06/02/2023</IssuedDate>
      <OrganName>Sở Nội vụ tỉnh An Giang</OrganName>
      <Subject>Kế hoạch tuyển dụng công chức năm 2023</Subject>
      <Language>Tiếng Việt</Language>
      <PageAmount>3</PageAmount>
      <SignerInfo><Position>Giám đốc</Position><FullName>Trần Thị Thu</FullName></SignerInfo>
      <Priority>Thường</Priority>
      <FileName>KH-08-SNV.pdf</FileName>
    </VanBan>
    <VanBan>
      <DocOrdinal>2</DocOrdinal>
      <TypeName>Thông báo</TypeName>
      <CodeNumber>112</CodeNumber>
      <CodeNotation>TB-SNV</CodeNotation>
      <IssuedDate>29/12/2023</IssuedDate>
      <OrganName>Sở Nội vụ tỉnh An Giang</OrganName>
      <Subject>Thông báo kết quả tuyển dụng công chức năm 2023</Subject>
      <Language>Tiếng Việt</Language>
      <PageAmount>2</PageAmount>
      <FileName>TB-112-SNV.pdf</FileName>
    </VanBan>
  </HoSo>
  <HoSo>
    <FileCode><OrganId>000.00.27.H02</OrganId><FileCatalog>2023</FileCatalog><FileNotation>15.VT</FileNotation></FileCode>
    <Title>Hồ sơ về công tác văn thư, lưu trữ năm 2023</Title>
    <Maintenance>Vĩnh viễn</Maintenance>
    <Rights>Thường</Rights>
    <Language>Tiếng Việt</Language>
    <StartDate>10/01/2023</StartDate>
    <EndDate>10/01/2023</EndDate>
    <DocTotal>1</DocTotal>
    <PageTotal>4</PageTotal>
    <VanBan>
      <DocOrdinal>1</DocOrdinal>
      <TypeName>Báo cáo</TypeName>
      <CodeNumber>05</CodeNumber>
      <CodeNotation>BC-SNV</CodeNotation>
      <IssuedDate>10/01/2023</IssuedDate>
      <OrganName>Sở Nội vụ tỉnh An Giang</OrganName>
      <Subject>Báo cáo công tác văn thư, lưu trữ năm 2022</Subject>
      <Language>Tiếng Việt</Language>
      <PageAmount>4</PageAmount>
      <DueDate>31/01/2023</DueDate>
      <FileName>BC-05-SNV.pdf</FileName>
    </VanBan>
  </HoSo>
</DanhSachHoSo>
"""


def nd30_files() -> dict[str, bytes]:
    return {
        "ho-so-nd30.xml": ND30_XML.encode("utf-8"),
        "KH-08-SNV.pdf": pdf(
            "Kế hoạch số 08/KH-SNV", ["SO NOI VU TINH AN GIANG", "So: 08/KH-SNV", "Tuyen dung 2023"]
        ),
        "TB-112-SNV.pdf": pdf("Thông báo số 112/TB-SNV", ["SO NOI VU TINH AN GIANG", "So: 112/TB-SNV"]),
        "BC-05-SNV.pdf": pdf(
            "Báo cáo số 05/BC-SNV", ["SO NOI VU TINH AN GIANG", "So: 05/BC-SNV", "Van thu luu tru"]
        ),
    }


def muc_luc_files() -> dict[str, bytes]:
    """A mục lục kept in a spreadsheet by an office that never had an NĐ 30 system: one sheet,
    a "Loại" column telling hồ sơ rows from văn bản rows, free-text retention and access."""
    head = [
        "Loại",
        "Mã hồ sơ",
        "Tiêu đề hồ sơ",
        "Thời hạn bảo quản",
        "Chế độ sử dụng",
        "Ngôn ngữ",
        "Thời gian bắt đầu",
        "Thời gian kết thúc",
        "Số lượng trang",
        "Số, ký hiệu văn bản",
        "Ngày tháng văn bản",
        "Tên loại văn bản",
        "Trích yếu nội dung",
        "Tác giả",
        "Số trang",
        "Tên tệp",
        "Người ký",
    ]
    code = "000.00.27.H09.2022.03.HT"
    rows: list[list[str | int]] = [
        head,
        [
            "Hồ sơ",
            code,
            "Hồ sơ đăng ký hộ tịch năm 2022",
            "Vĩnh viễn",
            "Hạn chế",
            "Tiếng Việt",
            "03/01/2022",
            "30/12/2022",
            6,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "Văn bản",
            code,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "21/HD-STP",
            "03/01/2022",
            "Hướng dẫn",
            "Về việc hướng dẫn đăng ký hộ tịch trực tuyến",
            "Sở Tư pháp tỉnh An Giang",
            4,
            "HD-21-STP.pdf",
            "Nguyễn Văn Bình",
        ],
        [
            "Văn bản",
            code,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "140/BC-STP",
            "30/12/2022",
            "Báo cáo",
            "Báo cáo kết quả đăng ký hộ tịch năm 2022",
            "Sở Tư pháp tỉnh An Giang",
            2,
            "BC-140-STP.pdf",
            "Nguyễn Văn Bình",
        ],
    ]
    return {
        "muc-luc-ho-so.xlsx": xlsx(rows),
        "HD-21-STP.pdf": pdf("Hướng dẫn số 21/HD-STP", ["SO TU PHAP TINH AN GIANG", "So: 21/HD-STP"]),
        "BC-140-STP.pdf": pdf("Báo cáo số 140/BC-STP", ["SO TU PHAP TINH AN GIANG", "So: 140/BC-STP"]),
    }


def write_bag(dest: Path, payload: dict[str, bytes]) -> None:
    """A BagIt 1.0 bag (RFC 8493) with SHA-256 and SHA-512 manifests, written deterministically."""
    (dest / "data").mkdir(parents=True)
    for name, content in payload.items():
        (dest / "data" / name).write_bytes(content)
    total = sum(len(c) for c in payload.values())
    info = [*BAG_INFO, ("Payload-Oxum", f"{total}.{len(payload)}")]
    tags: dict[str, bytes] = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": "".join(f"{k}: {v}\n" for k, v in info).encode("utf-8"),
    }
    for algorithm in ("sha256", "sha512"):
        lines = sorted(f"{hashlib.new(algorithm, c).hexdigest()}  data/{n}\n" for n, c in payload.items())
        tags[f"manifest-{algorithm}.txt"] = "".join(lines).encode("utf-8")
    for name, content in tags.items():
        (dest / name).write_bytes(content)
    for algorithm in ("sha256", "sha512"):
        lines = sorted(f"{hashlib.new(algorithm, c).hexdigest()}  {n}\n" for n, c in tags.items())
        (dest / f"tagmanifest-{algorithm}.txt").write_bytes("".join(lines).encode("utf-8"))


def write_zip(dest: Path, top: str, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(dest, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])  # non-ASCII names get the UTF-8 flag (0x800) from zipfile


def build(out: Path) -> list[Path]:
    """Write the three samples under ``out`` (replacing earlier copies) and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    folder, bag, archive, tt05 = out / FOLDER, out / BAG, out / ZIP, out / TT05
    for old in (folder, bag):
        if old.exists():
            shutil.rmtree(old)
    archive.unlink(missing_ok=True)
    tt05.unlink(missing_ok=True)
    for name, files in ((ND30, nd30_files()), (MUC_LUC, muc_luc_files())):
        if (out / name).exists():
            shutil.rmtree(out / name)
        (out / name).mkdir()
        for file_name, content in files.items():
            (out / name / file_name).write_bytes(content)
    folder.mkdir()
    for name, content in folder_files().items():
        (folder / name).write_bytes(content)
    write_bag(bag, bag_payload())
    write_zip(archive, "bao-cao-tong-ket-2024", zip_files())
    write_tt05(tt05)
    return [folder, bag, archive, tt05, out / ND30, out / MUC_LUC]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where to write the samples (default: samples/)"
    )
    args = parser.parse_args()
    for path in build(args.out):
        print(path)


if __name__ == "__main__":
    main()
