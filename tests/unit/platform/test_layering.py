"""What may import what: the layer is the domain and its adapters, and the steps see the adapters only as ports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LENDING = ROOT / "shared" / "lending"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (deferred imports count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(LENDING), ids=lambda p: str(p.relative_to(LENDING)))
def test_nothing_in_the_layer_imports_the_tools_around_it(path: Path) -> None:
    # The layer ships shared/lending whole: the console, the local stack and the training pipeline stay out of it
    outside = {name for name in _imports(path) if name == "infra" or name.startswith("infra.")}
    assert outside == set()


def test_the_console_lives_outside_the_layer() -> None:
    assert not (LENDING / "cli").exists()
    assert (ROOT / "infra" / "console" / "__init__.py").is_file()


@pytest.mark.parametrize("path", _modules(LENDING / "steps"), ids=lambda p: p.name)
def test_steps_take_ports_and_domain_types_never_an_adapter(path: Path) -> None:
    adapters = {name for name in _imports(path) if name.startswith("lending.adapters")}
    assert adapters == set()


def _classes_named(name: str) -> set[str]:
    """The modules of shared/lending that define a class of this name."""
    found = set()
    for path in _modules(LENDING):
        tree = ast.parse(path.read_text(), str(path))
        if any(isinstance(node, ast.ClassDef) and node.name == name for node in ast.walk(tree)):
            found.add(".".join(path.relative_to(LENDING.parent).with_suffix("").parts))
    return found


@pytest.mark.parametrize("name", ["Applicant", "Consent", "IdentityResult"])
def test_one_class_for_each_concept_of_the_applicant(name: str) -> None:
    # The API's body, the decision, the steps and the vendors share one model each, the strict one
    assert len(_classes_named(name)) == 1, _classes_named(name)
