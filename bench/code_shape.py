"""The shape of the package's code, as issue 25 measures it (printed, never asserted).

    .venv/bin/python bench/code_shape.py [CHECKOUT]      # default: this checkout

- lines in agent/summarize/llm/ (non-empty, comments included);
- functions with more than 5 parameters (ruff's PLR0913: `self` and `cls` not counted);
- functions over 60 lines (from the `def` to the last line of the body);
- functions of cyclomatic complexity rank C or worse (radon, when installed: `pip install
  radon`; it is not a dependency of the project);
- `asyncio.run` call sites (with the modules that hold them), `asyncio.to_thread` call sites,
  and `getattr` call sites (the introspection the issue counts);
- mypy errors on agent/ (`make typecheck`).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LONG_FUNCTION = 60


def python_files(package: Path) -> Iterator[Path]:
    yield from sorted(p for p in package.rglob("*.py") if ".venv" not in p.parts)


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return len([n for n in names if n not in ("self", "cls")])


def calls_to(tree: ast.AST, dotted: str) -> int:
    """Calls of `name` or `module.name` (e.g. 'asyncio.run', 'getattr')."""
    count = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = f"{func.value.id}.{func.attr}"
        else:
            continue
        count += name == dotted
    return count


def radon_c_or_worse(package: Path) -> int | None:
    radon = shutil.which("radon") or str(Path(sys.executable).with_name("radon"))
    if not Path(radon).exists():
        return None
    out = subprocess.run(
        [radon, "cc", "-n", "C", "-s", str(package)], capture_output=True, text=True, check=False
    ).stdout
    return len(re.findall(r"^\s+[FMC] \d+:\d+ ", out, re.MULTILINE))


def ruff_too_many_arguments(package: Path) -> int:
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run(
        [str(ruff), "check", "--select", "PLR0913", "--output-format", "concise", "--no-cache",
         "--isolated", str(package)],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return len(re.findall(r"PLR0913", out))


def mypy_errors(checkout: Path) -> int:
    mypy = Path(sys.executable).with_name("mypy")
    out = subprocess.run(
        [str(mypy), "--cache-dir", "/dev/null", "agent"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = re.search(r"Found (\d+) errors?", out)
    return int(found.group(1)) if found else 0


def sites(counts: dict[str, int]) -> str:
    """'6 (cli.py 4, core/http.py 2)': the total, then each module's share."""
    shares = ", ".join(f"{where} {n}" for where, n in sorted(counts.items()))
    return f"{sum(counts.values())}" + (f" ({shares})" if shares else "")


def main() -> None:
    checkout = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    package = checkout / "agent"
    long_functions = getattrs = 0
    asyncio_runs: dict[str, int] = {}
    to_threads: dict[str, int] = {}
    for path in python_files(package):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in functions(tree):
            end = node.end_lineno or node.lineno
            long_functions += end - node.lineno + 1 > LONG_FUNCTION
        where = str(path.relative_to(package))
        for counts, call in ((asyncio_runs, "asyncio.run"), (to_threads, "asyncio.to_thread")):
            if found := calls_to(tree, call):
                counts[where] = found
        getattrs += calls_to(tree, "getattr")
    llm_lines = sum(
        1
        for path in python_files(package / "summarize" / "llm")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    radon = radon_c_or_worse(package)
    print(f"checkout: {checkout}")
    print(f"lines in agent/summarize/llm/:            {llm_lines:,}")
    print(f"functions with > 5 parameters (PLR0913): {ruff_too_many_arguments(package)}")
    print(f"functions over {LONG_FUNCTION} lines:                {long_functions}")
    print(
        f"radon rank C or worse:                   {radon if radon is not None else 'radon not installed'}"
    )
    print(f"asyncio.run call sites:                  {sites(asyncio_runs)}")
    print(f"asyncio.to_thread call sites:            {sites(to_threads)}")
    print(f"getattr call sites:                      {getattrs}")
    print(f"mypy errors:                             {mypy_errors(checkout)}")


if __name__ == "__main__":
    main()
