"""The lowest versions pyproject.toml allows are the ones `.ci/lowest` tests.

A lower bound is a promise to a user whose other packages hold a dependency back; written down
and never installed, it drifted (duckdb>=1.1, pyarrow>=15 and sqlglot>=25 were written while
the replay's SQL needed DuckDB 2.0 and sqlglot 30.25). `.ci/lowest-constraints.txt` pins every
runtime dependency at its bound, and this test holds the two files to the same versions."""
from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.architecture.test_imports import ROOT

# The extras that are not part of what a user runs: tests, the API site, the peer benchmarks.
DEVELOPMENT_EXTRAS = {"test", "docs", "bench"}


def lower_bounds() -> dict[str, Version]:
    """Each runtime dependency's lowest version, by name, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra, listed in project["optional-dependencies"].items():
        if extra not in DEVELOPMENT_EXTRAS:
            requirements += [r for r in listed if not r.startswith("rplang")]
    bounds: dict[str, Version] = {}
    for text in requirements:
        requirement = Requirement(text)
        lowest = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert len(lowest) == 1, f"{text}: a runtime dependency needs one lower bound (>=), tested by .ci/lowest"
        lowest = lowest[0]
        name = canonicalize_name(requirement.name)
        assert bounds.get(name, lowest) == lowest, f"{name} has two lower bounds in pyproject.toml"
        bounds[name] = lowest
    return bounds


def pinned() -> dict[str, Version]:
    """The versions `.ci/lowest` installs, by name."""
    pins = {}
    for line in (ROOT / ".ci" / "lowest-constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_every_runtime_dependency_is_pinned_at_its_lower_bound():
    assert pinned() == lower_bounds()

