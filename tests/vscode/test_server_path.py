"""The extension without a server: the error it shows, and setting rpl.server.path in the Settings
editor then starts the server, as the error says it will (VS Code, code-server)."""
from __future__ import annotations

import pytest

from tests.conftest import APUTURE
from tests.vscode.conftest import MISSING, TIMEOUT_MS, rpl_command, running_code_server, window_on

pytestmark = [pytest.mark.vscode, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]
playwright_api = pytest.importorskip("playwright.sync_api", reason="the trial needs playwright (pip)")
expect = playwright_api.expect
expect.set_options(timeout=TIMEOUT_MS)


def test_setting_the_server_path_after_the_error_starts_the_server(browser, vsix, tmp_path, screenshots):
    with (running_code_server(tmp_path, vsix, "/missing/bin/rpl") as code_server,
          window_on(browser, code_server) as window):
        error = window.page.locator(".notification-toast").filter(has_text="rpl: could not start")
        expect(error).to_contain_text("/missing/bin/rpl lsp")
        expect(error).to_contain_text("set rpl.server.path to its rpl command")
        window.screenshot(screenshots, "6-no-server")
        window.set_setting("rpl.server.path", rpl_command())
        line = APUTURE.read_text(encoding="utf-8").splitlines().index("  then refuse") + 1
        window.go_to(line, len("  then refuse") + 1)
        window.page.keyboard.type("zz")
        expect(window.editor.locator(".squiggly-error")).to_have_count(1)
        expect(window.page.locator("#status\\.problems")).to_contain_text("1")
        window.screenshot(screenshots, "6-server-started")
