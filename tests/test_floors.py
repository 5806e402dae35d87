"""pyproject.toml's floors are the versions .ci/floors.txt installs, which CI tests."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT, FLOORS = ROOT / "pyproject.toml", ROOT / ".ci" / "floors.txt"
#: Test-extra tools the floors run does not use (lint only).
NOT_RUN = {"ruff"}

pytestmark = pytest.mark.skipif(
    not (PYPROJECT.exists() and FLOORS.exists()), reason="not in a checkout of the repository"
)


def _release(version):
    """``"2.0"`` and ``"2.0.0"`` alike: the release numbers, trailing zeros dropped."""
    numbers = [int(part) for part in version.split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def _name(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_floors():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    floors = {}
    for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)\s*", requirement)
        assert match, f"{requirement!r}: a floor is written 'name>=version'"
        if _name(match[1]) not in NOT_RUN:
            floors[_name(match[1])] = match[2]
    return floors


def _installed_floors():
    floors = {}
    for line in FLOORS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            floors[_name(name)] = version.strip()
    return floors


def test_pyproject_floors_are_the_versions_the_floors_run_installs():
    declared, installed = _declared_floors(), _installed_floors()
    assert set(declared) == set(installed)
    for name, version in declared.items():
        assert _release(version) == _release(installed[name]), (name, version, installed[name])


def test_the_floors_run_is_on_the_lowest_python_the_package_allows():
    # floors.txt names the Python its run uses (.ci/run's python3); requires-python is that.
    requires = tomllib.loads(PYPROJECT.read_text())["project"]["requires-python"]
    python = re.search(r"Python (\d+\.\d+)", FLOORS.read_text())
    assert python, "floors.txt names the Python of its run"
    assert requires == f">={python[1]}"
