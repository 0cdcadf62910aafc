"""docs/architecture.md's pictures are generated from the package (tools/architecture.py):
the committed ones must be what the code draws today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_pictures_are_what_the_imports_draw_today() -> None:
    checked = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "architecture.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_check_fails_when_an_import_is_missing_from_the_picture(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import architecture
    finally:
        sys.path.remove(str(ROOT / "tools"))
    text = architecture.DOC.read_text(encoding="utf-8")
    fresh = architecture.generated()
    arrow = next(line for line in fresh["imports"].splitlines() if " --> " in line)
    stale = architecture.rewrite(text, {**fresh, "imports": fresh["imports"].replace(arrow, "")})
    assert stale != text and architecture.rewrite(stale, fresh) == text
