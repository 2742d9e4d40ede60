"""The package's import graph: no cycle between modules, and no library module imports the CLI.

Walks the AST of every module under ``src/juanji`` (imports inside functions included, since they
only hide a cycle from Python, not from a reader) and resolves relative imports. An edge into a package
is an edge to its ``__init__``, so a submodule importing from its package while the package's
``__init__`` imports that submodule is a cycle too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import juanji

ROOT = Path(juanji.__file__).resolve().parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The juanji modules ``name`` imports (anywhere in its body)."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # `from pkg import sub` imports the submodule when it is one.
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod
                       for a in node.names]
        for t in targets:
            while t and t not in known:  # `import juanji.nn.layers as L` -> the module itself
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {name: _imports(name, path, known) for name, path in mods.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_walker_sees_imports_inside_functions(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from juanji.cli import main\n    import juanji.nn.layers\n")
    found = _imports("juanji.m", src, {"juanji.cli", "juanji.nn.layers", "juanji.nn"})
    assert found == {"juanji.cli", "juanji.nn.layers"}


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules():
    cycles = _cycles(_graph())
    assert cycles == [], "import cycles (each a set of modules that import each other):\n" + \
        "\n".join(" <-> ".join(c) for c in cycles)


def test_no_library_module_imports_the_command_line():
    graph = _graph()
    offenders = sorted(f"{m} imports {t}" for m, deps in graph.items()
                       if not (m == "juanji.cli" or m.startswith("juanji.cli.")
                               or m == "juanji.__main__")
                       for t in deps if t == "juanji.cli" or t.startswith("juanji.cli."))
    assert offenders == []
