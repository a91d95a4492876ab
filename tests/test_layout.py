"""The package's layout: data flows one way through the modules, and only public APIs are used.

Both tests read the source (``ast``), so they see the imports inside functions too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"


def _modules() -> dict[str, Path]:
    """``sim.x.y`` -> path, for every module of the package."""
    out = {}
    for path in sorted(SIM.rglob("*.py")):
        parts = path.relative_to(SIM.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict) -> set[str]:
    """The package's modules that module ``name`` imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                root = ".".join(base + ([node.module] if node.module else []))
            else:
                root = node.module or ""
            # 'from . import budget' names a module; 'from .x import f' names x
            targets = [f"{root}.{a.name}" for a in node.names if f"{root}.{a.name}" in modules] or [root]
        else:
            continue
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name and t != "sim":
                found.add(t)
    return found


def test_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph["sim.cli"], "the import graph is empty: the parser above is broken"
    state: dict[str, int] = {}          # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The test above can fail: two modules that import each other are reported."""
    pkg = tmp_path / "sim"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("from . import a\n")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from .a import f\n")
    monkeypatch.setattr(__import__(__name__), "SIM", pkg)
    try:
        test_no_import_cycle()
    except AssertionError as exc:
        assert "sim.a -> sim.b -> sim.a" in str(exc)
    else:
        raise AssertionError("the cycle was not found")


def _own_names() -> set[str]:
    """Every name the package defines: functions, classes, attributes, arguments, keywords."""
    names = set()
    for path in SIM.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[0])
    return names


def _private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def test_only_public_attributes_of_others():
    """No ``x._name`` in the package unless ``_name`` is the package's own (no private attributes
    of the interpreter, the standard library or a dependency)."""
    own = _own_names()
    bad = []
    for path in sorted(SIM.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and node.attr not in own):
                bad.append(f"{path.relative_to(SIM.parent)}:{node.lineno}: .{node.attr}")
            if (isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                    and any(_private(part) for part in node.module.split("."))):
                bad.append(f"{path.relative_to(SIM.parent)}:{node.lineno}: from {node.module}")
            # getattr(x, "_name") and module paths such as "package._private" given as text
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if re.fullmatch(r"_[a-z]\w*[a-z0-9]", text) and text not in own:
                    bad.append(f"{path.relative_to(SIM.parent)}:{node.lineno}: '{text}'")
                elif (re.fullmatch(r"[a-z]\w*(\.\w+)+", text)
                      and any(_private(part) for part in text.split("."))):
                    bad.append(f"{path.relative_to(SIM.parent)}:{node.lineno}: '{text}'")
    assert not bad, "private attributes of others: " + ", ".join(bad)


def test_readme_lists_the_modules_in_import_order():
    """The README's layout lists every module so that each imports only those listed before it
    (or on its own line), as its text says."""
    readme = (SIM.parent / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    rank = {}
    for i, line in enumerate(block.splitlines()):
        for path in re.findall(r"sim/[\w/]*?(?:\w+\.py|\w+/)", line.split("  ")[0] + " " + line):
            name = path.rstrip("/").removesuffix(".py").replace("/", ".")
            rank.setdefault(name, i)
    modules = _modules()
    listed = {m: rank.get(m, rank.get(m.rpartition(".")[0])) for m in modules if m != "sim"}
    assert not [m for m, r in listed.items() if r is None], "modules missing from the README's layout"
    late = [f"{m} imports {t}" for m in listed for t in _imports(m, modules[m], modules)
            if not t.startswith(m + ".") and listed[t] > listed[m]]
    assert not late, "README layout out of import order: " + "; ".join(late)
