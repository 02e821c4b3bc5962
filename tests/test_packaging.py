"""Packaging and set-up: one list of dependencies, two files; the README's commands."""
import re
import tomllib

from conftest import ROOT


def _name_and_spec(requirement: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*?)\s*", requirement)  # pip extras: the same package
    return m[1].lower().replace("_", "-"), m[2].replace(" ", "")


def _environment_yml() -> dict[str, str]:
    deps = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        m = re.fullmatch(r"  - ([A-Za-z][^#\s]*)\s*(#.*)?", line)
        if m and not m[1].startswith(("python", "pip")):
            name, spec = _name_and_spec(m[1])
            deps[name] = spec
    return deps


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for extra in project["optional-dependencies"].values() for r in extra]  # test, book, hub, ...
    wanted = dict(_name_and_spec(r) for r in project["dependencies"] + extras)
    assert _environment_yml() == wanted
    assert "- -e ." in (ROOT / "environment.yml").read_text()
    assert project["requires-python"] == ">=3.11"


def test_pinned_versions_the_course_needs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = dict(_name_and_spec(r) for r in project["dependencies"])
    assert deps["jupyterlab"] == ">=4.2,<5" and deps["nbgrader"].startswith(">=0.9.6")
    assert deps["numpy"] == ">=2,<3" and deps["ipywidgets"] == ">=8,<9"
    assert "torch" not in deps


def test_readme_states_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)


def test_every_subpackage_is_packaged():
    from setuptools import find_packages

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    found = set(find_packages(str(ROOT), include=include))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bn_helpers").rglob("__init__.py")}
    assert on_disk <= found
