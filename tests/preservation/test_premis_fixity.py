"""The audit's streamed read of a PREMIS document's file fixity (issue 14) refuses what is not ours
the way :func:`preservation.premis_read.read_premis` does; that it agrees with it on a stored AIP is
shown in tests/audit/test_audit.py."""

from __future__ import annotations

import io

import pytest

from preservation.premis import PREMIS_NS, XSI_NS
from preservation.premis_fixity import FileFixity, iter_file_fixity
from preservation.premis_records import PremisReadError

SHA256 = "a" * 64
SHA512 = "B" * 128


def _premis(*objects: str, events: int = 0) -> bytes:
    event = "<premis:event><premis:eventType>x</premis:eventType></premis:event>"
    return (
        f'<premis:premis xmlns:premis="{PREMIS_NS}" xmlns:xsi="{XSI_NS}" version="3.0">'
        + "".join(objects)
        + event * events
        + "</premis:premis>"
    ).encode()


def _file(path: str, *, sha512: str = SHA512, size: str = "12") -> str:
    fixity = "".join(
        f"<premis:fixity><premis:messageDigestAlgorithm>{alg}</premis:messageDigestAlgorithm>"
        f"<premis:messageDigest>{value}</premis:messageDigest></premis:fixity>"
        for alg, value in (("SHA-256", SHA256), ("SHA-512", sha512))
        if value
    )
    return (
        '<premis:object xsi:type="premis:file">'
        "<premis:objectIdentifier><premis:objectIdentifierType>UUID</premis:objectIdentifierType>"
        "<premis:objectIdentifierValue>u1</premis:objectIdentifierValue></premis:objectIdentifier>"
        "<premis:objectIdentifier><premis:objectIdentifierType>local</premis:objectIdentifierType>"
        f"<premis:objectIdentifierValue>{path}</premis:objectIdentifierValue></premis:objectIdentifier>"
        f"<premis:objectCharacteristics>{fixity}<premis:size>{size}</premis:size>"
        "</premis:objectCharacteristics></premis:object>"
    )


def test_every_file_object_is_read_in_order_digests_in_lower_case() -> None:
    data = _premis(_file("data/hồ sơ 1.pdf"), _file("data/b.txt", size="0"), events=3)
    assert list(iter_file_fixity(io.BytesIO(data), "PREMIS.xml")) == [
        FileFixity("data/hồ sơ 1.pdf", 12, SHA256, SHA512.lower()),
        FileFixity("data/b.txt", 0, SHA256, SHA512.lower()),
    ]


@pytest.mark.parametrize(
    ("data", "code", "problem"),
    [
        (b"<premis:premis", "xml.not_well_formed", "not well-formed"),
        (b'<premis version="3.0"/>', "premis.invalid", "is not PREMIS 3"),
        (_premis(_file("a", sha512="")), "premis.invalid", "file a has no SHA-512 fixity"),
        (_premis(_file("a", sha512="zz")), "premis.invalid", "file a has a malformed SHA-512"),
        (_premis(_file("a", size="-1")), "premis.invalid", "file a has size '-1'"),
    ],
)
def test_a_document_that_is_not_ours_is_refused_with_the_reason(data: bytes, code: str, problem: str) -> None:
    with pytest.raises(PremisReadError) as caught:
        list(iter_file_fixity(io.BytesIO(data), "PREMIS.xml"))
    assert caught.value.code == code
    assert problem in caught.value.problem
