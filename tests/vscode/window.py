"""A VS Code window (code-server in Chromium, driven by Playwright) used the way a person uses it:
keys, the command palette, Go to Line, and what the window shows."""
from __future__ import annotations

from pathlib import Path

import attrs
from playwright.sync_api import expect

START_SECONDS = 60


@attrs.frozen
class VSCode:
    """The keys and the parts of the window a user would use; each step waits for what VS Code shows."""
    page: object

    @property
    def editor(self):
        return self.page.locator(".editor-group-container.active .monaco-editor").first

    def open(self, relative: str) -> None:
        expect(self.page.locator(".monaco-workbench")).to_be_visible(timeout=START_SECONDS * 1000)
        expect(self.page.locator(".explorer-folders-view")).to_be_visible()
        self.page.keyboard.press("Control+p")
        quick_open = self.page.locator(".quick-input-widget input")
        expect(quick_open).to_be_focused()
        quick_open.press_sequentially(relative)
        expect(self.page.locator(".quick-input-list .monaco-list-row").first).to_contain_text(Path(relative).name)
        quick_open.press("Enter")
        expect(self.page.locator(".tab.active")).to_contain_text(Path(relative).name)
        expect(self.editor.locator(".view-lines")).to_contain_text("policy")
        # The language is rpl (the extension's contribution) once the status bar says so.
        expect(self.page.locator("#status\\.editor\\.mode")).to_contain_text("rpl")

    def command(self, title: str) -> None:
        self.page.keyboard.press("F1")
        palette = self.page.locator(".quick-input-widget input")
        expect(palette).to_be_focused()
        palette.press_sequentially(title)
        expect(self.page.locator(".quick-input-list .monaco-list-row.focused")).to_contain_text(title)
        palette.press("Enter")
        expect(self.page.locator(".quick-input-widget")).to_be_hidden()

    def set_setting(self, key: str, value: str) -> None:
        """Type a text setting's value in the Settings editor (as a user does), then close it."""
        self.command("Preferences: Open User Settings")
        settings = self.page.locator(".settings-editor")
        expect(settings).to_be_visible()
        self.page.keyboard.type(key)  # the Settings editor opens with its search box focused
        field = settings.locator(".setting-item-contents input")
        expect(field).to_have_count(1)
        field.fill(value)
        field.press("Tab")
        self.focus()
        self.page.keyboard.press("Control+w")
        expect(settings).to_have_count(0)

    def focus(self) -> None:
        self.page.keyboard.press("Control+1")  # View: Focus First Editor Group

    def go_to(self, line: int, column: int) -> None:
        """Put the cursor at a 1-based line and column with Go to Line (Ctrl+G), as a user would."""
        self.focus()
        self.page.keyboard.press("Control+g")
        field = self.page.locator(".quick-input-widget input")
        expect(field).to_be_focused()
        field.press_sequentially(f"{line}:{column}")
        field.press("Enter")
        expect(self.page.locator(".quick-input-widget")).to_be_hidden()
        expect(self.cursor_status()).to_have_text(f"Ln {line}, Col {column}")

    def cursor_status(self):
        return self.page.locator("#status\\.editor\\.selection")

    def text(self) -> str:
        """The document as the editor holds it (unsaved edits included): select all and copy."""
        self.focus()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Control+c")
        copied = self.page.evaluate("navigator.clipboard.readText()")
        self.page.keyboard.press("Escape")
        return copied

    def revert(self) -> None:
        """Back to the file on disk, so each test starts from the bundled policy."""
        self.focus()
        self.command("File: Revert File")
        expect(self.page.locator(".tab.active.dirty")).to_have_count(0)

    def screenshot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / f"{name}.png"))
