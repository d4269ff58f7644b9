"""The repository's own promises: the layer ships what the project declares, and the template holds the layer."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]


def _requirement_names(lines: list[str]) -> dict[str, str]:
    specs = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line:
            name = re.split(r"[<>=!~ \[]", line, maxsplit=1)[0].lower()
            specs[name] = line.replace(" ", "")
    return specs


def test_layer_requirements_match_the_project_dependencies() -> None:
    # Given the project's run-time dependencies and the layer's requirements file
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = (ROOT / "shared" / "requirements.txt").read_text().splitlines()

    # Then they name the same packages with the same version ranges
    assert _requirement_names(layer) == _requirement_names(project)


def test_template_builds_the_layer_from_shared_for_the_function_runtime() -> None:
    # Given the SAM template
    template = cfn_yaml.load(str(ROOT / "template.yaml"))

    # When we look at the layer
    layer = template["Resources"]["LendingLayer"]

    # Then it is built from shared/ by its Makefile, for the runtime pinned in .python-version
    runtime = f"python{(ROOT / '.python-version').read_text().strip()}"
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "shared/"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
    assert template["Globals"]["Function"]["Runtime"] == runtime
    assert "build-LendingLayer:" in (ROOT / "shared" / "Makefile").read_text()


def test_the_catalogue_ships_inside_the_layer_package() -> None:
    assert (ROOT / "shared" / "lending" / "data" / "catalogue.json").is_file()


def test_every_test_module_has_a_name_of_its_own() -> None:
    # pytest imports test modules by basename (rootdir, no packages): two of one name stop the whole collection
    names = Counter(path.name for path in (ROOT / "tests").rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
