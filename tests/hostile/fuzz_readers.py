"""A bounded, coverage-guided fuzz run (atheris, libFuzzer) of the package readers.

    .venv/bin/python tests/hostile/fuzz_readers.py TARGET [libFuzzer options]
    make soak-fuzz                      # every target, FUZZ_SECONDS each (default 60)

TARGET is one of: ``mets`` (the METS reader of our AIPs), ``eark`` (an E-ARK SIP's METS, read as a
package), ``ead`` (a TT 05 description file, read and checked), ``tt05`` (a whole TT 05 SIP whose
package description is the input), ``bag`` (a BagIt manifest), ``zip`` and ``tar`` (an archive
listed and unpacked under small limits). Each input must end in a result or a coded
:class:`~preservation.errors.KholuuError`; any other exception is a crash, which atheris reports
with the input that caused it (saved as ``crash-*`` in the working folder). The seeds are valid
inputs made at start, so the fuzzer begins from real structure.

atheris installs from a manylinux wheel (``pip install atheris``; no clang needed on x86-64
Linux with CPython 3.11); it is not a test dependency, only ``make soak`` needs it.
"""

from __future__ import annotations

import atexit
import io
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from preservation import mets_read
    from preservation.errors import KholuuError
    from preservation.quarantine import copy_tree
    from preservation.safepath import UnpackLimits
    from preservation.submission import read_submission
    from preservation.tt05.ead import parse_description
    from preservation.tt05.ead_check import check_description
    from preservation.tt05.package import read_records
    from preservation.tt05.tables import Variant, shipped_tables
    from preservation.unpack import unpack_archive

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
LIMITS = UnpackLimits(
    max_files=200, max_total_bytes=8 << 20, max_file_bytes=4 << 20, ratio_floor_bytes=1 << 20
)
WORK = Path(tempfile.mkdtemp(prefix="kholuu-fuzz-"))
TABLES = shipped_tables()


def _fresh(name: str) -> Path:
    path = WORK / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _write(name: str, data: bytes) -> Path:
    path = WORK / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------- targets


def fuzz_mets(data: bytes) -> None:
    mets_read.read_mets(data, "METS.xml")


def fuzz_ead(data: bytes) -> None:
    parsed = parse_description(_write("EAD.xml", data), Variant.HOSO_SIP, "EAD.xml")
    check_description(parsed, TABLES, intake=True)


def _package(template: Path, rel: str, data: bytes) -> None:
    source = _fresh("src")
    shutil.rmtree(source)
    shutil.copytree(template, source)
    (source / rel).write_bytes(data)
    submission = read_submission(copy_tree(source, _fresh("quarantine"), LIMITS))
    read_records(submission, TABLES, intake=True)


def fuzz_eark(data: bytes) -> None:
    _package(ROOT / "tests" / "data" / "eark-sip" / "minimal", "METS.xml", data)


def fuzz_tt05(data: bytes) -> None:
    _package(_tt05_template(), "metadata/descriptive/EAD.xml", data)


def fuzz_bag(data: bytes) -> None:
    _package(_bag_template(), "manifest-sha256.txt", data)


def fuzz_zip(data: bytes) -> None:
    unpack_archive(_write("in.zip", data), _fresh("out"), LIMITS)


def fuzz_tar(data: bytes) -> None:
    unpack_archive(_write("in.tar", data), _fresh("out"), LIMITS)


# ------------------------------------------------------------------------------------------ seeds


def _tt05_template() -> Path:
    made = WORK / "tt05-template"
    if not made.exists():
        from tests.tt05 import build_sample_sip

        built = build_sample_sip(WORK / "tt05-build", TABLES)
        shutil.copytree(built, made)
    return made


def _bag_template() -> Path:
    made = WORK / "bag-template"
    if not made.exists():
        import bagit

        (made / "ho-so").mkdir(parents=True)
        (made / "ho-so" / "Quyết định.txt").write_text("Quyết định số 1", encoding="utf-8")
        bagit.make_bag(str(made), checksums=["sha256"])
        (made / "tagmanifest-sha256.txt").unlink()
    return made


def _zip_seed() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ho-so/Quyết định.txt", "Quyết định số 1")
        zf.writestr("a/", "")
    return buf.getvalue()


def _tar_seed() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        data = "Quyết định số 1".encode()
        info = tarfile.TarInfo("ho-so/Quyết định.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("ban-sao.txt")
        link.type, link.linkname = tarfile.LNKTYPE, "ho-so/Quyết định.txt"
        tf.addfile(link)
    return buf.getvalue()


def _seeds(target: str) -> list[bytes]:
    if target == "mets":
        aip_mets = ROOT / "tests" / "data" / "eark-sip" / "minimal" / "METS.xml"
        return [aip_mets.read_bytes()]
    if target == "eark":
        return [(ROOT / "tests" / "data" / "eark-sip" / "minimal" / "METS.xml").read_bytes()]
    if target in ("ead", "tt05"):
        return [(_tt05_template() / "metadata" / "descriptive" / "EAD.xml").read_bytes()]
    if target == "bag":
        return [(_bag_template() / "manifest-sha256.txt").read_bytes()]
    return [_zip_seed()] if target == "zip" else [_tar_seed()]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "mets": fuzz_mets,
    "eark": fuzz_eark,
    "ead": fuzz_ead,
    "tt05": fuzz_tt05,
    "bag": fuzz_bag,
    "zip": fuzz_zip,
    "tar": fuzz_tar,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = sys.argv[1]
    run = TARGETS[target]
    seeds = WORK / f"seeds-{target}"
    seeds.mkdir(exist_ok=True)
    for i, seed in enumerate(_seeds(target)):
        (seeds / f"seed-{i}").write_bytes(seed)

    def one_input(data: bytes) -> None:
        try:
            run(data)
        except KholuuError:
            pass  # a coded refusal is the right answer to a bad input

    atexit.register(shutil.rmtree, WORK, ignore_errors=True)
    atheris.Setup([sys.argv[0], *sys.argv[2:], str(seeds)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
