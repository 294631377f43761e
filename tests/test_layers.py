"""The import order of rag's sub-packages: no cycles, and no import against the pipeline's layers.

Layers from the top down (rag/__init__.py, README "Architecture"); a module imports from its own
layer or a lower one, never a higher one. The base modules (config, records, errors, cache, locks)
sit at rag/'s top level, beneath them all. Imports inside functions count as much as those at the
top.
"""

from __future__ import annotations

import ast
import importlib

import pytest

from .conftest import ROOT

LAYERS = [
    "interfaces",
    "answering",
    "verification",
    "retrieval",
    "analysis",
    "ingest",
    "store",
    "language",
    "base",
]
PACKAGE = ROOT / "rag"


def layer_of(module: str) -> str:
    """`rag.retrieval.lexical` → retrieval; `rag.config` → base."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else "base"


def name_of(path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


FILES = {name_of(p): p for p in sorted(PACKAGE.rglob("*.py")) if "templates" not in p.parts}
MODULES = sorted(m for m in FILES if m != "rag")


def imports(module: str) -> set[str]:
    """rag's modules that `module` imports, anywhere in the file (sub-packages count as their
    __init__)."""
    tree = ast.parse(FILES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{module}: a relative import; rag imports by absolute name")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rag"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in FILES else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rag."))
    return {m for m in found if m in FILES and m not in ("rag", module)}


def test_every_sub_package_is_a_layer_and_says_what_it_may_import():
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py") if p.parent.name != "templates")
    assert sorted(set(packages) - set(LAYERS)) == []
    for name in packages:
        doc = importlib.import_module(f"rag.{name}").__doc__ or ""
        assert "May import:" in doc, f"rag.{name} has no docstring saying what it may import"


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_only_its_layer_and_those_below(module):
    level = LAYERS.index(layer_of(module))
    upward = sorted(m for m in imports(module) if LAYERS.index(layer_of(m)) < level)
    assert upward == [], f"{module} ({layer_of(module)}) imports from above: {upward}"


def test_no_import_cycles():
    graph = {m: imports(m) for m in MODULES}
    done: set[str] = set()

    def visit(m: str, path: list[str]) -> list[str] | None:
        if m in path:
            return path[path.index(m) :] + [m]
        if m in done:
            return None
        for n in sorted(graph[m]):
            cycle = visit(n, [*path, m])
            if cycle:
                return cycle
        done.add(m)
        return None

    cycles = [c for m in MODULES if (c := visit(m, []))]
    assert cycles == []


@pytest.mark.parametrize(
    "name",
    [
        "Service",
        "answer",
        "summarize",
        "Settings",
        "load_settings",
        "Answer",
        "Citation",
        "Filters",
        "Notice",
        "RagError",
    ],
)
def test_a_user_script_imports_the_public_names_from_the_package(name):
    import rag

    thing = getattr(rag, name)
    assert thing.__name__ == name and thing.__module__.startswith("rag.")


def test_an_unknown_name_is_an_attribute_error():
    import rag

    with pytest.raises(AttributeError, match="no_such_name"):
        rag.no_such_name  # noqa: B018
