"""The import order of rag's modules: no cycles, and no import against the pipeline's layers.

Layers from the top down (README, "Architecture"); a module imports from its own layer or a
lower one, never a higher one. Imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast

import pytest

from .conftest import ROOT

LAYERS: list[tuple[str, set[str]]] = [
    ("interfaces", {"cli", "web", "service"}),
    ("answering", {"answer", "summarize", "extractive", "learned", "prompts", "llm"}),
    ("verification", {"verify"}),
    ("retrieval", {"retrieve", "lexical"}),
    ("analysis", {"question", "evidence", "match"}),
    ("ingest", {"ingest", "loader", "chunking"}),
    ("store", {"store", "embeddings"}),
    ("language", {"language", "crossling", "lexicon", "text", "timewords", "tokens"}),
    ("base", {"config", "records", "errors", "cache", "locks"}),
]
LEVEL = {m: i for i, (_, mods) in enumerate(LAYERS) for m in mods}
MODULES = sorted(p.stem for p in (ROOT / "rag").glob("*.py") if p.stem != "__init__")


def imports(module: str) -> set[str]:
    """rag's modules that `module` imports, anywhere in the file."""
    tree = ast.parse((ROOT / "rag" / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rag."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("rag."))
    return {m for m in found if m in MODULES and m != module}


def test_every_module_has_a_layer():
    assert sorted(set(MODULES) - set(LEVEL)) == []


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_only_its_layer_and_those_below(module):
    upward = sorted(m for m in imports(module) if LEVEL[m] < LEVEL[module])
    assert upward == [], f"{module} ({LAYERS[LEVEL[module]][0]}) imports from above: {upward}"


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
