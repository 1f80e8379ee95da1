"""What `rpl check` reports on a policy's text: its errors, else the static checks' warnings and
what it says of the policy's own examples (`rplang.runtime.testing.example_diagnostics`)."""
from __future__ import annotations

import re
from pathlib import Path

from rplang.policy_lang.errors import Diagnostic
from rplang.verify.static import check_policy_text


def check_as_rpl_check(text: str, filename: str) -> list[Diagnostic]:
    from rplang.runtime.testing import example_diagnostics, load_suite

    found = check_policy_text(text, filename)
    if any(d.severity == "error" for d in found) or not re.search(r"^example\s", text, re.M):
        return found
    # `filename` names no file: the text is given, and there is no examples file beside it (the
    # cases' and the documents' examples give their requests inline)
    return found + example_diagnostics(load_suite(Path(filename), text))
