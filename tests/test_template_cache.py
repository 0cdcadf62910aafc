"""Compiled templates kept between runs: used when valid, rebuilt when damaged, skipped when the
cache cannot be written, one directory per environment; and through the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import bc_magic

from agent.render import render_archive_index, render_html, render_text
from agent.render.env import html_env, text_env
from agent.render.template_cache import QuietBytecodeCache, cache_root, template_cache
from tests.processes import run_digest
from tests.test_render import make_digest


def _fresh_environments() -> None:
    html_env.cache_clear()
    text_env.cache_clear()


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty XDG cache for this test, and environments built afresh before and after it."""
    root = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    _fresh_environments()
    yield root
    _fresh_environments()


def _render_all() -> tuple[str, str]:
    digest = make_digest(3)
    return render_html(digest).html, render_text(digest)


def _cache_files(root: Path) -> dict[str, list[Path]]:
    return {
        kind: sorted(root.glob(f"paper-digest/templates/jinja-*/{kind}/*.cache"))
        for kind in ("html", "text")
    }


def _forbid_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a template was compiled although its compiled code was cached")

    monkeypatch.setattr(jinja2.Environment, "_parse", refuse)


def test_templates_compiled_once_are_loaded_compiled_and_render_the_same(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _render_all()
    files = _cache_files(cache_home)
    assert files["html"] and files["text"], files
    assert all(path.stat().st_size > 0 for paths in files.values() for path in paths)

    _fresh_environments()  # a new run: nothing compiled in memory
    _forbid_compiling(monkeypatch)
    assert _render_all() == first


def test_a_damaged_cache_file_is_compiled_again_and_replaced(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _render_all()
    damaged = {}
    for number, path in enumerate(p for ps in _cache_files(cache_home).values() for p in ps):
        whole = path.read_bytes()
        # garbage, or a file cut short inside its checksum (the header still valid)
        damaged[path] = (
            b"\x00 not a compiled template" if number % 2 else whole[: len(bc_magic) + 4]
        )
        path.write_bytes(damaged[path])
    assert len(damaged) >= 2

    _fresh_environments()
    assert _render_all() == first
    assert all(path.read_bytes() != bad for path, bad in damaged.items())

    _fresh_environments()
    _forbid_compiling(monkeypatch)  # the replacement is a valid compiled template
    assert _render_all() == first


def test_an_unusable_cache_directory_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(in_the_way / "cache"))
    _fresh_environments()
    try:
        assert template_cache("html") is None
        html, text = _render_all()
    finally:
        _fresh_environments()
    assert "Paper number 1" in html and "Paper number 1" in text


def test_a_cache_that_vanishes_mid_run_costs_nothing_but_the_saving(
    cache_home: Path,
) -> None:
    cache = template_cache("html")
    assert isinstance(cache, QuietBytecodeCache)
    directory = Path(cache.directory)
    directory.rmdir()
    directory.write_text("now a file")  # writing a compiled template fails with an OSError
    env = jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ x }}!"}), bytecode_cache=cache)
    assert env.get_template("t").render(x="ok") == "ok!"


def test_each_environment_and_jinja_version_has_its_own_directory(cache_home: Path) -> None:
    html, text = template_cache("html"), template_cache("text")
    assert html is not None and text is not None
    html_dir, text_dir = Path(html.directory), Path(text.directory)
    assert html_dir != text_dir
    assert html_dir.parent == text_dir.parent
    assert html_dir.parent.name.startswith(f"jinja-{jinja2.__version__}-py3.")
    assert html_dir.stat().st_mode & 0o077 == 0  # private to the user


def test_a_relative_xdg_cache_home_is_ignored_as_the_spec_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_root() == tmp_path / ".cache" / "paper-digest"


def test_the_archive_page_uses_the_html_cache(cache_home: Path) -> None:
    assert "<html" in render_archive_index([], title="Archive").lower()
    assert _cache_files(cache_home)["html"]


def test_daily_runs_fill_the_cache_and_write_the_same_digest(tmp_path: Path) -> None:
    cache = tmp_path / "xdg-cache"
    outputs = []
    for run in ("first", "second"):
        home = tmp_path / run
        out = home / "out"
        result = run_digest(
            "daily", "--source", "sample", "--engine", "offline", "--no-send",
            "--out", str(out), "--date", "2026-11-26",
            home=home, cwd=tmp_path, env={"XDG_CACHE_HOME": str(cache)},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs.append(
            sorted(
                (p.name, p.read_bytes()) for p in out.rglob("*") if p.suffix in (".html", ".txt")
            )
        )
        if run == "first":
            files = _cache_files(cache)
            assert files["html"] and files["text"], files
            stamps = {p: p.stat().st_mtime_ns for ps in files.values() for p in ps}
    assert outputs[0] == outputs[1] and outputs[0]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # read, not written again
