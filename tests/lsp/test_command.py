"""`rpl lsp` without its extra: a clear message and exit code 64, and the rest of rpl still works."""
from __future__ import annotations

import subprocess
import sys

# pygls made unimportable, as when rplang is installed without the `lsp` extra.
WITHOUT_PYGLS = "import sys; sys.modules['pygls'] = None; from rplang.cli import main; main(sys.argv[1:])"


def test_rpl_lsp_without_pygls_says_what_to_install():
    done = subprocess.run([sys.executable, "-c", WITHOUT_PYGLS, "lsp"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 64
    assert "rpl lsp needs pygls: install rplang[lsp]" in done.stderr
    assert "Traceback" not in done.stderr


def test_rpl_starts_without_pygls():
    done = subprocess.run([sys.executable, "-c", WITHOUT_PYGLS, "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "lsp" in done.stdout
