"""Draw the package from its imports into docs/architecture.md, so the picture cannot drift.

    .venv/bin/python tools/architecture.py          # rewrite the generated parts
    .venv/bin/python tools/architecture.py --check  # exit 1 when they are stale (a test runs it)

Two parts are generated, each between its markers in docs/architecture.md:

- `tree`: every package and top-level module of `agent/` with the first line of its docstring,
  and each package's modules;
- `imports`: a Mermaid flowchart of which top-level unit (`agent.X`, a module or a package)
  imports which, every import counted (lazy ones inside functions and those for type
  checking too), drawn in the layers of the first import-linter contract of pyproject.toml;
  an arrow is left out when a longer path already joins the two units (transitive reduction),
  so every arrow drawn is a direct import and every unit reaches what it reaches.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path

import generated_parts  # tools/ is on the path: this script's own folder

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "agent"
DOC = ROOT / "docs" / "architecture.md"


def modules(package: Path = PACKAGE) -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module of the package."""
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def imported(tree: ast.AST, name: str, is_package: bool) -> Iterator[str]:
    """The agent modules a module imports, anywhere in its body."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's own package
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def unit(module: str) -> str | None:
    """`agent.X` of a module below agent (None for agent itself and for other packages)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "agent" and len(parts) > 1 else None


def unit_graph() -> dict[str, set[str]]:
    """Which top-level unit imports which (no self-imports)."""
    names = dict(modules())
    units = {u for n in names if (u := unit(n))}
    graph: dict[str, set[str]] = {u: set() for u in units}
    for name, path in names.items():
        source = unit(name)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target in imported(tree, name, path.name == "__init__.py"):
            found = unit(target)
            if found in units and found != source:
                graph[source].add(found)
    return graph


def reachable(graph: dict[str, set[str]], start: str, skip: tuple[str, str]) -> set[str]:
    """Units reachable from `start` without the edge `skip`."""
    seen: set[str] = set()
    todo = [t for t in graph[start] if (start, t) != skip]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def reduced(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The edges no longer path implies (for a graph with cycles, a cycle's edges stay)."""
    return sorted(
        (a, b) for a in graph for b in graph[a] if b not in reachable(graph, a, skip=(a, b))
    )


def layers() -> list[list[str]]:
    """The layers of the first import-linter contract, top first, each a list of units."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    first = config["tool"]["importlinter"]["contracts"][0]
    return [re.split(r"\s*[|:]\s*", layer.strip()) for layer in first["layers"]]


def _id(name: str) -> str:
    return name.replace(".", "_")


def mermaid(graph: dict[str, set[str]]) -> str:
    """The flowchart: one subgraph per layer (units outside the contract on their own), the
    reduced edges."""
    lines = ["```mermaid", "flowchart TB"]
    placed: set[str] = set()
    for number, members in enumerate(layers(), start=1):
        present = [m for m in members if m in graph]
        if not present:
            continue
        lines.append(f"  subgraph L{number}[layer {number}]")
        lines.extend(f"    {_id(m)}[{m.removeprefix('agent.')}]" for m in present)
        lines.append("  end")
        placed.update(present)
    rest = sorted(set(graph) - placed)
    if rest:
        lines.append("  subgraph helpers[shared helpers, outside the layers]")
        lines.extend(f"    {_id(m)}[{m.removeprefix('agent.')}]" for m in rest)
        lines.append("  end")
    lines.extend(f"  {_id(a)} --> {_id(b)}" for a, b in reduced(graph))
    lines.append("```")
    return "\n".join(lines)


def first_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def tree() -> str:
    """agent/'s packages and top-level modules, each with its docstring's first line."""
    lines = ["```text", "agent/"]
    for path in sorted(PACKAGE.iterdir()):
        if path.name.startswith(("_", ".")) or path.name == "data":
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            lines.append(f"  {path.name}/  {first_line(path / '__init__.py')}")
            lines.extend(_package_lines(path, "    "))
        elif path.suffix == ".py":
            lines.append(f"  {path.name}  {first_line(path)}")
    lines.append("```")
    return "\n".join(lines)


def _package_lines(package: Path, indent: str) -> Iterable[str]:
    names = sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")
    if names:
        yield from _wrapped(names, indent)
    for sub in sorted(p for p in package.iterdir() if (p / "__init__.py").exists()):
        yield f"{indent}{sub.name}/  {first_line(sub / '__init__.py')}"
        yield from _package_lines(sub, indent + "  ")


def _wrapped(names: list[str], indent: str, width: int = 96) -> Iterable[str]:
    line = indent
    for name in names:
        piece = f"{name}.py"
        if len(line) + len(piece) + 1 > width and line.strip():
            yield line.rstrip()
            line = indent
        line += piece + " "
    if line.strip():
        yield line.rstrip()


def generated() -> dict[str, str]:
    return {"tree": tree(), "imports": mermaid(unit_graph())}


def rewrite(text: str, parts: dict[str, str]) -> str:
    """`text` with each generated part replaced between its markers."""
    return generated_parts.rewrite(DOC, text, parts, tool="architecture")


def main() -> int:
    check = "--check" in sys.argv[1:]
    return generated_parts.refresh(
        DOC, generated(), tool="architecture", check=check, shown=str(DOC)
    )


if __name__ == "__main__":
    sys.exit(main())
