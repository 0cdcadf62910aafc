"""A non-editable install carries the sample corpus, the templates and the prompts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.processes import clean_env, digest_process

REPO = Path(__file__).resolve().parents[1]


BUILD_LOG: dict[str, str] = {}


def test_pyproject_lists_every_directory_of_the_package() -> None:
    """setuptools warns "Package ... would be ignored" for a directory with files that is not in
    `packages` (data and template directories too); the list must be complete."""
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
            "packages"
        ]
    )
    on_disk = {
        ".".join(directory.relative_to(REPO).parts)
        for directory in [REPO / "agent", *(REPO / "agent").rglob("*")]
        if directory.is_dir()
        and directory.name != "__pycache__"
        and any(f.is_file() and f.suffix != ".pyc" for f in directory.iterdir())
    }
    assert on_disk - listed == set()
    assert "agent.prompts" in listed


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("src") / "paper-digest"
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "__pycache__", "out", "runs"
    )
    shutil.copytree(REPO, source, ignore=ignore)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    BUILD_LOG["log"] = built.stdout + built.stderr
    [wheel_file] = out.glob("paper_digest-*.whl")
    return wheel_file


def test_wheel_carries_data_templates_and_prompts(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {Path(n).name for n in names if n.startswith("agent/data/")}
    shipped = {p.name for p in (REPO / "agent" / "data").iterdir() if p.suffix != ".md"}
    assert "sample-daily-papers.jsonl" in data and shipped <= data, shipped - data
    assert any(n.startswith("agent/render/templates/") and n.endswith(".html") for n in names)
    prompts = {Path(n).name for n in names if n.startswith("agent/prompts/")}
    on_disk = {p.name for p in (REPO / "prompts").glob("*.j2")}
    assert on_disk and on_disk <= prompts
    cases = {Path(n).name for n in names if n.startswith("agent/evalcases/")}
    assert {p.name for p in (REPO / "evals" / "cases").glob("*.yaml")} <= cases
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "digest = agent.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_build_prints_no_ignored_package_warnings(wheel: Path) -> None:
    log = BUILD_LOG["log"]
    assert (
        "would be ignored" not in log and "is absent from the `packages` configuration" not in log
    )
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "agent/init/templates/digest.toml.j2" in names
    assert "agent/evals/templates/report.md.j2" in names


@pytest.mark.slow  # the default tier keeps the wheel's contents (a build, no install); CI's slow tier runs this too
def test_installed_wheel_runs_the_daily_job_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    dependencies = [p for p in sys.path if p.endswith("site-packages")]
    env = clean_env(
        PYTHONPATH=os.pathsep.join([str(target), *dependencies]), DIGEST_HOME=str(tmp_path / "home")
    )
    result = digest_process(
        "daily",
        "--source",
        "sample",
        "--date",
        "2026-11-26",
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "2026-11-26" / "digest.json").read_text(encoding="utf-8"))
    assert data["themes"] and data["engine"] == "offline"
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import agent, agent.core.resources as r; print(agent.__file__); print(r.prompts_dir())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    module_file, prompts = check.stdout.split()
    assert module_file.startswith(str(target)), "the installed copy, not the checkout, was imported"
    assert Path(prompts).is_dir() and any(Path(prompts).glob("*.j2"))

    # No sources configured and no --source: said plainly, exit 2, no demo day built.
    bare = digest_process(
        "daily",
        "--date",
        "2026-11-27",
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
        env=env,
    )
    assert bare.returncode == 2, bare.stderr
    assert "no sources configured" in bare.stderr and "Traceback" not in bare.stderr
    assert not (tmp_path / "out" / "2026-11-27").exists()

    # `digest eval` outside a checkout finds the cases shipped in the wheel.
    evaluated = digest_process(
        "eval",
        "--engine",
        "offline",
        "--tag",
        "injection",
        "--out",
        str(tmp_path / "runs"),
        "--baseline",
        str(Path(prompts)),
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "no eval cases" not in evaluated.stderr
