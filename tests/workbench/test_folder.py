"""Saving through `Folder`: the policy is never left half written, nor made readable by more
people than could read it, nor a file outside the folder written through the backup's name."""
from __future__ import annotations

import errno
import os
import stat

import pytest

from rplang.policy_lang.format import format_policy
from rplang.workbench.folder import Folder, SaveRefused, Unreadable
from tests.conftest import APUTURE


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "p.rpl").write_text(APUTURE.read_text(encoding="utf-8"), encoding="utf-8")
    return Folder(tmp_path / "shop")


def _save(folder: Folder, text: str | None = None):
    old, version = folder.read("p.rpl")
    return folder.save("p.rpl", text or old.replace("14 days", "30 days"), version.token())


def test_the_policy_and_its_backup_keep_the_policy_s_permissions(folder):
    policy = folder.root / "p.rpl"
    policy.chmod(0o600)
    saved = _save(folder)
    assert saved.backup == "p.rpl~"
    assert stat.S_IMODE(policy.stat().st_mode) == 0o600
    assert stat.S_IMODE((folder.root / "p.rpl~").stat().st_mode) == 0o600


def test_a_backup_name_that_is_a_link_out_of_the_folder_is_replaced_not_followed(folder):
    outside = folder.root.parent / "outside.txt"
    outside.write_text("not the workbench's")
    (folder.root / "p.rpl~").symlink_to(outside)
    before = (folder.root / "p.rpl").read_text(encoding="utf-8")
    _save(folder)
    assert outside.read_text() == "not the workbench's"
    backup = folder.root / "p.rpl~"
    assert not backup.is_symlink() and backup.read_text(encoding="utf-8") == before


def test_a_folder_named_as_the_backup_refuses_the_save_and_leaves_nothing(folder):
    (folder.root / "p.rpl~").mkdir()
    before = (folder.root / "p.rpl").read_bytes()
    with pytest.raises(SaveRefused) as refused:
        _save(folder)
    assert refused.value.kind == "unwritable"
    assert str(refused.value) == ("`p.rpl` was not saved: cannot write `p.rpl~`: Is a directory; "
                                  "the file on disk is as it was")
    assert (folder.root / "p.rpl").read_bytes() == before
    assert sorted(os.listdir(folder.root)) == ["p.rpl", "p.rpl~"]


def test_a_full_disk_leaves_the_policy_as_it_was(folder, monkeypatch):
    before = (folder.root / "p.rpl").read_bytes()
    writes = []

    def fsync(fd):  # the backup is written; the policy's new text finds the disk full
        writes.append(fd)
        if len(writes) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(SaveRefused) as refused:
        _save(folder)
    assert refused.value.kind == "unwritable" and "No space left on device" in str(refused.value)
    assert (folder.root / "p.rpl").read_bytes() == before
    assert sorted(os.listdir(folder.root)) == ["p.rpl", "p.rpl~"]


def test_a_policy_deleted_on_disk_is_written_anew_when_asked(folder):
    policy = folder.root / "p.rpl"
    text, version = folder.read("p.rpl")
    policy.unlink()
    saved = folder.save("p.rpl", text, version.token(), overwrite=True)
    assert saved.backup is None and policy.read_text(encoding="utf-8") == format_policy(text)
    assert os.listdir(folder.root) == ["p.rpl"]


def test_a_policy_its_user_may_not_write_is_not_saved(folder, monkeypatch):
    """Renamed over, a read-only policy was rewritten all the same (the folder is writable)."""
    policy = folder.root / "p.rpl"
    before = policy.read_bytes()
    policy.chmod(0o444)
    if os.geteuid() == 0:  # root may write any file: be a user who may not write this one
        real_open = os.open

        def user_open(name, flags, *args, **kwargs):
            if flags & (os.O_WRONLY | os.O_RDWR) and os.path.exists(name) and os.path.samefile(name, policy):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
            return real_open(name, flags, *args, **kwargs)
        monkeypatch.setattr(os, "open", user_open)
    with pytest.raises(SaveRefused) as refused:
        _save(folder)
    assert refused.value.kind == "unwritable" and "Permission denied" in str(refused.value)
    assert policy.read_bytes() == before


def test_a_pipe_among_the_policies_is_refused_unread(pipe):
    """Read, it would hang the page's server: it waits for a writer, then reads for ever."""
    with pytest.raises(Unreadable, match="^`p.rpl` is a pipe, not a file$"):
        Folder(pipe.parent).read("p.rpl")
