"""environment.yml (conda) names the same dependencies as pyproject.toml (pip)."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from lobutils.paths import REPO_ROOT

PYPROJECT = REPO_ROOT / "pyproject.toml"
ENVIRONMENT = REPO_ROOT / "environment.yml"

# Entries of environment.yml that are the environment itself, not project dependencies.
CONDA_ONLY = {"python", "pip"}


def normalise(name: str) -> str:
    """PEP 503 name normalisation: ``PyYAML`` and ``pyyaml``, ``scikit_learn`` and ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(spec: str, source: str) -> tuple[str, SpecifierSet]:
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        raise AssertionError(
            f"{source}: cannot parse {spec!r}; write pip-style specifiers (name>=1.2,<2)"
        ) from exc
    return normalise(req.name), req.specifier


def add(deps: dict[str, SpecifierSet], spec: str, source: str) -> None:
    name, specifier = parse(spec, source)
    assert name not in deps, f"{source}: {name} is listed twice"
    deps[name] = specifier


def pyproject_deps() -> dict[str, SpecifierSet]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    own = normalise(project["name"])
    deps: dict[str, SpecifierSet] = {}
    groups = {"dependencies": project.get("dependencies", [])}
    groups |= {f"extra {k}": v for k, v in project.get("optional-dependencies", {}).items()}
    for group, specs in groups.items():
        for spec in specs:
            if parse(spec, "pyproject.toml")[0] == own:  # e.g. all = ["lobutils[ml,deep]"]
                continue
            add(deps, spec, f"pyproject.toml ({group})")
    return deps


def environment() -> dict:
    return yaml.safe_load(ENVIRONMENT.read_text(encoding="utf-8"))


def environment_deps() -> tuple[dict[str, SpecifierSet], str | None]:
    deps: dict[str, SpecifierSet] = {}
    python = None
    for entry in environment()["dependencies"]:
        if isinstance(entry, dict):
            assert set(entry) == {"pip"}, f"environment.yml: unexpected entry {entry}"
            for spec in entry["pip"]:
                assert not spec.startswith("-"), (
                    f"environment.yml pip section: {spec!r}; list packages by name, not options"
                )
                add(deps, spec, "environment.yml (pip)")
            continue
        entry = str(entry)
        if re.match(r"^python\s*=", entry):
            python = entry.split("=", 1)[1].strip()
            continue
        # conda's single '=' (pkg=1.2) is not pip syntax; '==' is fine.
        assert not re.match(r"^[A-Za-z0-9_.-]+\s*=[^=]", entry), (
            f"environment.yml: {entry!r} uses conda's '=' pin; use pip-style specifiers"
        )
        if normalise(entry) in CONDA_ONLY:
            continue
        add(deps, entry, "environment.yml (conda)")
    return deps, python


def test_environment_uses_conda_forge():
    env = environment()
    assert env["channels"] == ["conda-forge"]
    assert env["name"]


def test_same_packages():
    py = pyproject_deps()
    env, _ = environment_deps()
    only_py = sorted(set(py) - set(env))
    only_env = sorted(set(env) - set(py))
    assert not only_py and not only_env, (
        f"only in pyproject.toml: {only_py}; only in environment.yml: {only_env}"
    )


def test_same_version_specifiers():
    py = pyproject_deps()
    env, _ = environment_deps()
    differ = {
        name: (str(py[name]), str(env[name]))
        for name in sorted(set(py) & set(env))
        if py[name] != env[name]
    }
    assert not differ, f"specifiers differ (pyproject.toml, environment.yml): {differ}"


def test_python_version_satisfies_requires_python():
    _, python = environment_deps()
    assert python is not None, "environment.yml must pin python (python=3.11)"
    requires = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["requires-python"]
    assert Version(python) in SpecifierSet(requires), (python, requires)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("PyYAML>=6", "pyyaml"),
        ("scikit_learn>=1.6", "scikit-learn"),
        ("Jupyter.Book", "jupyter-book"),
    ],
)
def test_normalise(spec, expected):
    assert parse(spec, "test")[0] == expected


def test_lab_opens_chapters_as_notebooks():
    """The lab settings `make lab` installs make jupytext's notebook the viewer of .py files.

    The viewer's name must be a document factory that the installed jupyterlab-jupytext
    extension registers (checked where JupyterLab's extensions are installed).
    """
    import json
    import sys
    from pathlib import Path

    overrides = json.loads((REPO_ROOT / ".jupyter/lab/settings/overrides.json").read_text())
    viewer = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"]
    assert viewer == "Jupytext Notebook"
    make = (REPO_ROOT / "Makefile").read_text()
    assert ".jupyter/lab/settings/overrides.json $(LAB_SETTINGS)" in make
    assert "LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json" in make
    ext = Path(sys.prefix) / "share/jupyter/labextensions/jupyterlab-jupytext/static"
    if not ext.is_dir():
        pytest.skip(f"jupyterlab-jupytext is not installed in {sys.prefix}")
    assert any(f'"{viewer}"' in js.read_text(errors="ignore") for js in ext.glob("*.js"))
