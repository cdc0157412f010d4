"""The house's boundaries, read from the source: which layer may import which.

Layers, bottom up: the engine (`playground/`: settings, data, models, training, measurements),
the charts (`playground/charts/`: plain data in, Altair out), serving (the trainers behind
pages and their backends), the command line, then `ui/` (the Streamlit layer) and `pages/`.
Data flows up; nothing imports a layer above its own, and nothing under `playground/` imports
Streamlit. Imports under `if TYPE_CHECKING:` are type hints, not dependencies, and are skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "playground"
SERVING = {"runner", "backends", "allocator", "comparison_trainer"}
CLI = {"cli", "__main__"}
# what holds or trains a model: charts get plain data (snapshots, views, results) instead
STATE = {"train", "stack", "comparison", "inspection", *SERVING, *CLI}


def _module(path: Path) -> str:
    """`playground.charts.network` for playground/charts/network.py."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> set[str]:
    """Every module `path` imports when it runs, as dotted names (`from a import b` gives
    both a and a.b, since b may be a module)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    hints = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hints:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _ours(path: Path) -> set[str]:
    """The project's modules `path` imports: `playground.x` and `ui.y`, by their short names
    (`x` for the engine's top level, `charts.z` for a chart module)."""
    out = set()
    for name in _runtime_imports(path):
        head, _, rest = name.partition(".")
        if head == "playground" and rest:
            out.add(rest if not rest.startswith("charts.") else "charts")
        elif head in ("ui", "pages", "streamlit"):
            out.add(head)
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


ENGINE = [p for p in _files(PACKAGE) if "charts" not in p.parts and p.stem not in SERVING | CLI]
CHARTS = _files(PACKAGE / "charts")


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", _files(PACKAGE), ids=_ids(_files(PACKAGE)))
def test_nothing_in_the_package_imports_streamlit_or_the_ui(path):
    assert not _ours(path) & {"streamlit", "ui", "pages"}, _module(path)


@pytest.mark.parametrize("path", ENGINE, ids=_ids(ENGINE))
def test_the_engine_imports_neither_serving_nor_charts_nor_the_command_line(path):
    above = {"charts", *SERVING, *CLI}
    assert not _ours(path) & above, f"{_module(path)} imports {sorted(_ours(path) & above)}"


@pytest.mark.parametrize("path", CHARTS, ids=_ids(CHARTS))
def test_charts_import_no_engine_state(path):
    assert not _ours(path) & STATE, f"{_module(path)} imports {sorted(_ours(path) & STATE)}"


def test_serving_and_the_command_line_import_no_charts():
    for stem in SERVING | CLI:
        path = PACKAGE / f"{stem}.py"
        assert path.exists(), f"{stem} is named here but is not a module: update this test"
        assert "charts" not in _ours(path), stem


def test_the_ui_imports_no_page():
    for path in _files(ROOT / "ui"):
        assert "pages" not in _ours(path), _module(path)


def test_the_rules_see_an_import_that_breaks_them(tmp_path):
    """The reader the rules rest on finds a plain import, a `from` import and skips hints."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "import streamlit as st\n"
        "from playground.charts import network\n"
        "from playground import train\n"
        "if TYPE_CHECKING:\n"
        "    from playground.runner import Trainer\n"
    )
    found = _runtime_imports(bad)
    assert {"streamlit", "playground.charts.network", "playground.train"} <= found
    assert "playground.runner" not in found
