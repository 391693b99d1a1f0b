"""The layout's promises, checked on the source: typed Temporal calls, who imports whom, light
workflow imports, and no generic top-level module installed into site-packages."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio.activity import _Definition

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ["workflows", "activities", "api", "parley", "worker.py"]
# Client and workflow calls whose first argument names a workflow, signal, query or activity.
TEMPORAL_CALLS = {
    "signal",
    "query",
    "execute_activity",
    "start_activity",
    "execute_local_activity",
    "start_local_activity",
    "start_child_workflow",
    "execute_child_workflow",
    "start_workflow",
    "execute_workflow",
    "execute_update",
    "start_update",
}


def _sources(*names: str) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if "migrations" not in f.parts]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    found: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node, node.module))
        elif isinstance(node, ast.Import):
            found += [(node, alias.name) for alias in node.names]
    return found


def _passed_through(tree: ast.Module) -> set[int]:
    """ids of the import nodes inside `with workflow.unsafe.imports_passed_through():`."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and "imports_passed_through" in ast.unparse(node.items[0]):
            inside |= {id(n) for n in ast.walk(node)}
    return inside


def test_no_temporal_call_by_string_name() -> None:
    offenders = []
    for path in _sources(*SERVICE):
        for node in ast.walk(_tree(path)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr in TEMPORAL_CALLS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_api_never_imports_activities() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _sources("api")
        for _, module in _imports(_tree(path))
        if module == "activities" or module.startswith("activities.")
    ]
    assert offenders == []


def test_workflows_take_only_activity_references_from_activities() -> None:
    """Workflows name activities by typed reference (`SlackActivities.update_alert`) and build
    their requests; they take nothing else from activities/ (no client, no Slack errors: those
    come from parley.slack), and only through the sandbox's pass-through."""
    offenders = []
    for path in _sources("workflows"):
        tree = _tree(path)
        through = _passed_through(tree)
        for node, module in _imports(tree):
            if not module.startswith("activities"):
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            source = importlib.import_module(module)
            allowed = [
                n
                for n in names
                if _activity_class(getattr(source, n)) or _model(getattr(source, n))
            ]
            if id(node) not in through or not names or allowed != names:
                offenders.append(f"{path.relative_to(ROOT)}: from {module} import {names}")
    assert offenders == []


def _activity_class(obj: object) -> bool:
    return isinstance(obj, type) and any(
        _Definition.from_callable(getattr(obj, name)) is not None
        for name in dir(obj)
        if not name.startswith("__")
    )


def _model(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def test_the_library_does_not_import_the_service() -> None:
    """parley/ is below workflows/, activities/ and api/; only the renderers read workflow state
    types (`workflows.*_types`, plain pydantic models)."""
    offenders = []
    for path in _sources("parley"):
        for _, module in _imports(_tree(path)):
            top = module.split(".")[0]
            if top in ("api", "activities", "worker"):
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
            if top == "workflows" and not module.endswith("_types"):
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


@pytest.mark.parametrize(
    "module", ["parley.domain", "parley.enrichment.models", "workflows.alert_types"]
)
def test_models_a_workflow_imports_load_no_enrichment_backends(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('maxminddb', 'ipwhois', 'iporigin', 'parley.enrichment.service',"
        " 'sqlalchemy')"
        " if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_installed_top_level_names_cannot_clash() -> None:
    """Only `parley` and the design card's three packages are installed; no `settings`,
    `worker`, `devstack` or `temporal_client` module lands in site-packages."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    assert "py-modules" not in setuptools
    assert setuptools["packages"]["find"]["include"] == [
        "parley*",
        "workflows*",
        "activities*",
        "api*",
    ]
    top_level = {p.stem for p in ROOT.glob("*.py")}
    assert top_level == {"worker"}


def test_readme_follows_one_click_in_at_most_seven_files() -> None:
    readme = (ROOT / "README.md").read_text()
    trace = readme.split("**Follow one click", 1)[1].split("\n\n", 2)[1]
    steps = re.findall(r"^\d+\. `([^`]+)` — (.*?)(?=^\d+\. |\Z)", trace, re.M | re.S)
    assert 1 <= len(steps) <= 7
    for path, text in steps:
        source = (ROOT / path).read_text()
        # Every function the step names exists in that file, so the reader can jump to it.
        for name in re.findall(r"`(?:[A-Za-z]+\.)?(_?[a-z][a-z_]+)\(\)`", text):
            assert f"def {name}(" in source, (path, name)
