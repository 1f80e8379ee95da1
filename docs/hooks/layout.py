"""The package as pip installs it (rplang/, rplang/compiler/, ...), made of links to the
sources. Static readers (griffe for the API reference, mypy) follow no import hook, so they
cannot read an editable install's package-dir mapping; they read this instead."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def package_dirs() -> dict[str, str]:
    """pyproject's package-dir: each package of the namespace and its folder in the repository."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        dirs: dict[str, str] = tomllib.load(f)["tool"]["setuptools"]["package-dir"]
    return dirs


def installed_layout(site: Path) -> Path:
    """Make `site/rplang/...` and return `site`, to put on a static reader's search path."""
    top = site / "rplang"
    if top.exists():
        shutil.rmtree(top)
    top.mkdir(parents=True)
    for package, folder in package_dirs().items():
        if package == "rplang":
            for path in (ROOT / folder).iterdir():
                if path.suffix in (".py", ".typed") or (path / "__init__.py").exists():
                    (top / path.name).symlink_to(path, target_is_directory=path.is_dir())
        else:
            (top / package.split(".", 1)[1]).symlink_to(ROOT / folder, target_is_directory=True)
    return site
