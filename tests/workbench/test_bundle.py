"""The page's JavaScript shipped in the package is the one its sources build (web/, pinned by
web/package-lock.json): rebuilt here with npm and compared byte for byte."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

WEB = ROOT / "web"
SHIPPED = ROOT / "rplang" / "workbench" / "static" / "workbench.js"


@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                    reason="npm and node are not installed, so the bundle cannot be rebuilt here "
                           "(the shipped one is used as it is)")
def test_the_shipped_bundle_is_what_the_sources_build(tmp_path):
    if not (WEB / "node_modules" / "esbuild").is_dir():
        installed = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, capture_output=True,
                                   text=True, timeout=300)
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stderr}"
    built = tmp_path / "workbench.js"
    done = subprocess.run(["node", "build.mjs", str(built)], cwd=WEB, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert built.read_bytes() == SHIPPED.read_bytes(), (
        "rplang/workbench/static/workbench.js is not what web/src builds: run `npm run build` in web/ "
        "and commit the bundle")


def test_the_page_loads_nothing_from_elsewhere():
    """Offline: the page and its bundle name no other site (no CDN)."""
    page = (ROOT / "rplang" / "workbench" / "static" / "index.html").read_text(encoding="utf-8")
    for tag in ('src="http', "href=\"http", "src=\"//", "href=\"//"):
        assert tag not in page
    assert "cdn" not in SHIPPED.read_text(encoding="utf-8").lower()
