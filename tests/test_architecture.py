"""Architecture of both packages: the library never imports matplotlib, no import cycle, no private cross-imports.

Acceptance tests of issue 10 item 1 and 4.  The import graph is read from the source (``ast``), so these tests
also see imports inside functions.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("quantum_diffusion", "classical")

LIBRARY_MODULES = (
    "quantum_diffusion.gaussian",
    "quantum_diffusion.petz",
    "quantum_diffusion.toric",
    "quantum_diffusion.classical_limit",
    "quantum_diffusion.info",
    "classical.train",
    "classical.sampling",
)


def _module_files() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


MODULES = _module_files()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """Absolute name of the module an ``ImportFrom`` node imports from."""
    if not node.level:
        return node.module or ""
    is_pkg = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_pkg else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """``(imported module, imported name or None, line)`` for every import in ``module``'s source."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            src = _resolve(module, node)
            for a in node.names:
                sub = f"{src}.{a.name}"
                if sub in MODULES:  # ``from . import module``
                    found.append((sub, None, node.lineno))
                else:
                    found.append((src, a.name, node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _, _ in _imports(m):
            # the longest known module that ``target`` names (``a.b.c`` -> ``a.b`` when c is an attribute)
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != m:
                graph[m].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
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


def _package_parents(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop the edges from a package ``__init__`` to its own submodules (re-exports are not cycles of concern)."""
    return {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}


@pytest.mark.slow  # a fresh interpreter importing torch, qutip and cvxpy (about 10 s on a busy machine)
def test_issue10_library_imports_leave_matplotlib_out():
    code = ("import sys; import " + ", ".join(LIBRARY_MODULES)
            + "; print('matplotlib' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_issue10_matplotlib_is_imported_only_by_the_application_layer():
    offenders = []
    for m in MODULES:
        if m.startswith("quantum_diffusion.demo") or m == "classical.__main__":
            continue
        offenders += [f"{m}:{line}" for target, _, line in _imports(m) if target.split(".")[0] == "matplotlib"]
    assert offenders == []


def test_issue10_library_does_not_import_the_application_layer():
    offenders = [f"{m}:{line}" for m in MODULES if not m.startswith("quantum_diffusion.demo")
                 and not m.endswith("__main__")
                 for target, _, line in _imports(m) if target.startswith("quantum_diffusion.demo")]
    assert offenders == []


def test_the_import_graph_is_read_correctly():
    """A known edge of each kind (relative, absolute, ``from . import x``) is present: the cycle test sees them."""
    g = _graph()
    assert "quantum_diffusion.io" in g["quantum_diffusion.demo.report"]
    assert "classical.pipeline" in g["quantum_diffusion.demo.mnist"]
    assert "quantum_diffusion.petz.generators" in g["quantum_diffusion.petz"]
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(toy) == [["a", "b", "c"]]


def test_issue10_no_import_cycle():
    assert _cycles(_package_parents(_graph())) == []


def _private_imports() -> list[str]:
    found = []
    for m in MODULES:
        for target, name, line in _imports(m):
            if target.split(".")[0] not in PACKAGES or name is None:
                continue
            if name.startswith("_") and not name.startswith("__"):
                found.append(f"{m}:{line} imports {name} from {target}")
    return sorted(found)


def test_issue10_no_private_name_imported_across_modules():
    assert _private_imports() == []


def test_issue10_benchmarks_import_library_modules_only():
    offenders = []
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names
                          if n.startswith(("quantum_diffusion.demo", "matplotlib")) or n.endswith("experiments")]
    assert offenders == []
