"""A folder SIP of N small mixed files from the public corpora in ``../shared/corpus`` (PDF,
images, office documents, XML, text...), the same for ours and the reference in one run.

    python bench/mixed_sip.py DEST --files 1000

Files are taken round-robin (in a fixed shuffled order) from the corpus files under 200 KB with
the extensions below (no archives and no password-protected files: ClamAV cannot read those whole
and our policy refuses them; a3m and we also unpack differently), and a
copy number goes into each name so every path is distinct; 100 files per folder.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
EXTENSIONS = {".pdf", ".png", ".jpg", ".xml", ".txt", ".csv", ".odt", ".doc", ".rtf", ".md", ".xls", ".ppt"}
MAX_BYTES = 200 * 1024
ENCRYPTED = re.compile(r"pass|pw\b|pw\.|encrypt|crypt", re.IGNORECASE)
"""Password-protected PDFs of the corpora: ClamAV cannot read them, and our policy refuses them."""


def corpus_files() -> list[Path]:
    """The corpus files used, in a fixed order."""
    found = [
        p
        for p in sorted(CORPUS.rglob("*"))
        if p.is_file()
        and p.suffix.lower() in EXTENSIONS
        and 0 < p.stat().st_size <= MAX_BYTES
        and not ENCRYPTED.search(p.name)
        and not p.relative_to(CORPUS).parts[0].startswith("bagit")  # hundreds of one-line .txt
    ]
    if not found:
        raise SystemExit(f"no corpus files under {CORPUS}")
    random.Random(14).shuffle(found)  # every size of SIP gets the mix, in a fixed order
    return found


def make_sip(dest: Path, files: int) -> int:
    """Fill ``dest`` with ``files`` files; returns their total size in bytes."""
    sources = corpus_files()
    total = 0
    for i in range(files):
        src = sources[i % len(sources)]
        folder = dest / f"hồ sơ {i // 100:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{i:06d} {src.name}"
        shutil.copyfile(src, target)
        total += src.stat().st_size
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    total = make_sip(args.dest, args.files)
    print(f"{args.files} files, {total / 1e6:.1f} MB in {args.dest}")


if __name__ == "__main__":
    main()
