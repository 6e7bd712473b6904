"""A wheel-installed ``kholuu`` works: it finds its defaults, message catalogs, TT 05 tables, format
policy, migrations, schemas and web templates without the source tree (issue 10, "Packaging").

The wheel is built without build isolation (setuptools and wheel are test dependencies, so no
download is needed) and installed with ``--no-deps`` into a fresh venv whose dependencies come from
the test venv through a ``.pth`` line: the code under test is the wheel's, the libraries are the
ones the rest of the suite uses. Every command runs from a folder outside the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES

pytestmark = pytest.mark.slow


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh venv holding only the wheel of this checkout."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    pip = [sys.executable, "-m", "pip"]
    wheel_args = ["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)]
    built = _run([*pip, *wheel_args], cwd=base)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("kholuu-*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=base)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=base)
    Path(site.stdout.strip(), "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = ["install", "-q", "--force-reinstall", "--no-deps", "--no-index", str(wheel)]
    done = _run([*pip, "--python", str(python), *install], cwd=base)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHOLUU_", "PYTHON"))}
    env.update({"KHOLUU_HOME": str(home), "KHOLUU_LANG": "en"})
    return env


def test_the_wheel_carries_the_code_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    probe = _run(
        [
            str(installed / "python"),
            "-c",
            "import repository, preservation.shipped as s;"
            "print(repository.__file__); print(s.shipped_dir('config'))",
        ],
        cwd=tmp_path,
        env=_clean_env(tmp_path),
    )
    assert probe.returncode == 0, probe.stderr
    code, config = probe.stdout.split()
    assert not Path(code).is_relative_to(ROOT)
    assert not Path(config).is_relative_to(ROOT)
    assert (Path(config) / "messages" / "vi.toml").is_file()


def test_wheel_installed_kholuu_inits_and_ingests(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    # The shipped EICAR-only signatures, found inside the installed package (the machine is offline).
    where = "from preservation.shipped import shipped_dir; print(shipped_dir('config'))"
    config = _run(
        [str(installed / "python"), "-c", where],
        cwd=tmp_path,
        env=_clean_env(home),
    ).stdout.strip()
    home.mkdir(parents=True)
    signatures = Path(config) / "clamav"
    (home / "kholuu.toml").write_text(f'[virus_check]\ndatabase = "{signatures}"\n', encoding="utf-8")
    env = _clean_env(home)
    init = _run([str(installed / "kholuu"), "init", "--json"], cwd=tmp_path, env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    sample = str(SAMPLES / "sip-folder-quyet-dinh")
    ingest = _run([str(installed / "kholuu"), "ingest", sample, "--json"], cwd=tmp_path, env=env)
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    aip = json.loads(ingest.stdout)
    shown = _run([str(installed / "kholuu"), "aip", "show", aip["aip_id"], "--json"], cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "stored"
    # The format policy is shipped data too: the PDF held has the installed policy's entry.
    check = _run([str(installed / "kholuu"), "policy", "check", "--json"], cwd=tmp_path, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    pdf = next(f for f in json.loads(check.stdout)["formats"] if f["puid"] == "fmt/18")
    assert pdf["in_policy"] and pdf["preservation"]["output_puid"] == "fmt/477"
    # Vietnamese texts come from the installed catalogs.
    vi = {**env, "KHOLUU_LANG": "vi"}
    missing = _run([str(installed / "kholuu"), "aip", "show", "uuid-00000000"], cwd=tmp_path, env=vi)
    assert missing.returncode == 4
    assert "Không tìm thấy" in missing.stderr
