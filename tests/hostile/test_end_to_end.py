"""A few of the hostile corpus through ``kholuu ingest``, on both catalogs: the refusal names its
code, nothing is half-stored (no AIP, no stored object, no catalog row beyond the job, the
consistency check clean), and each refused job keeps its quarantine copy intact (the archive byte
for byte) for the operator.

The rest of the corpus is checked where it is refused (the other modules of this folder); these
cases stand for each family: a bomb, a link, a device, a name, a damaged tar, a method we cannot
read, BagIt, METS, TT 05 and an encoding.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.conftest import cli_env, run_cli
from tests.hostile import test_containers, test_packages
from tests.hostile.corpus import Case

E2E = {
    "zip-symlink-absolute": "unpack.link_escapes",
    "zip-ratio-default-limits": "unpack.bomb",
    "tar-fifo": "unpack.special_file",
    "tar-nfc-nfd-twins": "unpack.normalization_collision",
    "tar-bad-header-in-the-middle": "unpack.data_after_end",
    "zip-deflate64": "unpack.unsupported_compression",
    "bag-info-windows-1258": "bag.invalid",
    "bag-payload-changed": "bag.checksum_mismatch",
    "mets-href-climbs": "eark.href_escapes",
    "tt05-file-code-sql": "description.code_characters",
}
_ALL = {c.id: c for c in [*test_containers.CASES, *test_packages.CASES]}
CASES: list[Case] = [_ALL[i] for i in E2E]


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _json(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    return data


def test_hostile_ingests_are_refused_and_nothing_is_half_stored(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    """The ten cases one after another into one data folder, as an operator would meet them."""
    env = cli_env(home, database_url)
    assert run_cli("init", env=env).returncode == 0
    storage = home / "storage"
    before = _tree(storage)
    jobs = []
    for hostile in CASES:
        source = hostile.build(tmp_path / hostile.id)
        source_bytes = source.read_bytes() if source.is_file() else None
        done = run_cli("ingest", str(source), "--json", env=env)
        assert done.returncode == 3, (hostile.id, done.stdout, done.stderr)
        out = _json(done.stdout)
        assert out["status"] == "refused", hostile.id
        codes = [out["error"]["code"], *(e["code"] for e in out.get("errors", []))]
        assert E2E[hostile.id] in codes, (hostile.id, codes)
        assert "Traceback" not in done.stderr, hostile.id
        # nothing stored, not even in part
        assert _tree(storage) == before, hostile.id
        # the quarantine copy is kept for the operator, intact
        quarantine = Path(out["quarantine"])
        assert quarantine.is_dir() and quarantine.is_relative_to(home), hostile.id
        if source_bytes is not None:
            assert (quarantine / "archive" / source.name).read_bytes() == source_bytes, hostile.id
        jobs.append((out["job_id"], E2E[hostile.id]))

    assert _json(run_cli("aip", "list", "--json", env=env).stdout)["aips"] == []
    check = run_cli("check", "--consistency", "--json", env=env)
    assert check.returncode == 0 and _json(check.stdout)["findings"] == [], check.stdout
    refused = _json(run_cli("job", "list", "--status", "refused", "--json", env=env).stdout)["jobs"]
    assert sorted(j["job_id"] for j in refused) == sorted(j for j, _ in jobs)
