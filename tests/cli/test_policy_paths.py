"""Every command that reads a policy reads only a file (or a folder, where it takes one), and
never more than a policy's limit: a pipe would wait for a writer for ever, and a device like
/dev/zero never end. Either is a bad command line (64) that names the path and what it is."""
import pytest

from rplang.policy_lang import limits
from tests.cli.conftest import RPL, run
from tests.conftest import APUTURE, APUTURE_REQUESTS

REQUEST = sorted(APUTURE_REQUESTS.glob("*.json"))[0]
# each command, with {} where the policy goes
COMMANDS = [
    ["check", "{}"], ["eval", "{}", REQUEST], ["explain", "{}", REQUEST], ["test", "{}"],
    ["diff", "{}", APUTURE, "--requests", REQUEST], ["diff", APUTURE, "{}", "--requests", REQUEST],
    ["doc", "{}"], ["schema", "{}"], ["graph", "{}"], ["serve", "{}"], ["workbench", "{}", "--no-browser"],
    ["replay", "{}", REQUEST], ["replay", APUTURE, REQUEST, "--compare", "{}"],
]


@pytest.fixture(autouse=True)
def no_server(monkeypatch):
    """`rpl serve` and `rpl workbench` refuse the path before they start a server: a regression
    fails here rather than serving for ever."""
    import uvicorn

    def run(*args, **kwargs):
        raise AssertionError("a server was started")

    monkeypatch.setattr(uvicorn, "run", run)


def _name(command):
    return " ".join("P" if part == APUTURE else "R" if part == REQUEST else str(part) for part in command)


def _with(command, path):
    return [path if part == "{}" else part for part in command]


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_a_pipe_is_refused_unread(command, pipe):
    result = run(*_with(command, pipe))
    assert result.code == 64, result
    assert f"{pipe} is a pipe, not a policy file" in result.err


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] != "test"],  # `test` finds only .rpl files
                         ids=_name)
def test_a_device_is_refused_unread(command):
    result = run(*_with(command, "/dev/null"))  # read, an empty policy
    assert result.code == 64, result
    assert "/dev/null is a device, not a policy file" in result.err


@pytest.mark.parametrize("command", [["check", "/dev/zero"], ["fmt", "/dev/zero"], ["eval", "/dev/zero", REQUEST]],
                         ids=_name)
def test_dev_zero_is_refused_unread(command):
    """Read, /dev/zero never ends: in a process of its own, whose memory is bounded, so that a
    regression fails (a MemoryError) rather than taking the machine's memory."""
    import resource
    import subprocess

    def bounded():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    done = subprocess.run(RPL + [str(part) for part in command], capture_output=True, timeout=120,
                          preexec_fn=bounded)
    assert done.returncode == 64, done
    assert b"/dev/zero" in done.stderr and b"a device, not a" in done.stderr


@pytest.mark.parametrize("command", [["diff", "{}", APUTURE, "--requests", REQUEST],
                                     ["replay", "{}", REQUEST]], ids=_name)
def test_a_folder_is_refused_where_a_command_reads_one_file(command, tmp_path):
    result = run(*_with(command, tmp_path))
    assert result.code == 64, result
    assert f"{tmp_path} is a folder, not a policy file" in result.err


def test_a_pipe_in_a_folder_of_policies_is_refused_unread(pipe):
    for args in (["check", pipe.parent], ["test", pipe.parent], ["eval", pipe.parent, REQUEST]):
        result = run(*args)
        assert result.code == 64, (args, result)
        assert f"{pipe} is a pipe, not a policy file" in result.err


def test_a_policy_longer_than_the_limit_is_refused_unread(tmp_path):
    big = tmp_path / "big.rpl"
    with open(big, "wb") as f:
        f.truncate(limits.MAX_POLICY_BYTES + 1)  # a hole: no disk spent on it
    for args in (["check", big], ["eval", big, REQUEST], ["diff", big, APUTURE, "--requests", REQUEST]):
        result = run(*args)
        assert result.code == 1, (args, result)
        assert f"the policy `{big}` is longer than the limit of {limits.MAX_POLICY_BYTES:,} bytes" in result.err


@pytest.mark.parametrize("command", COMMANDS + [["fmt", "{}"], ["verify", "{}"], ["check", "{}/p.rpl"]], ids=_name)
def test_a_name_too_long_is_answered_as_a_file_that_is_not_there(command, tmp_path):
    """`Path.is_dir` raises for a name longer than the system takes (ENAMETOOLONG): it was an
    internal error (70) of every command that reads a policy."""
    too_long, missing = str(tmp_path / ("a" * 300 + ".rpl")), str(tmp_path / "missing.rpl")
    result = run(*[part.replace("{}", too_long) if isinstance(part, str) else part for part in command])
    expected = run(*[part.replace("{}", missing) if isinstance(part, str) else part for part in command])
    assert result.code == expected.code != 70, result
    assert "internal error" not in result.err and ("File name too long" in result.err or result.code == 64), result


def test_diff_skips_a_requests_line_too_long_unheld(tmp_path):
    """As `rpl eval --jsonl` does: a line longer than a request's limit is skipped in pieces and
    rejected. Held whole (a 1 GiB line without a line feed, like /dev/zero's), it took the memory:
    in a process whose memory is bounded, a regression fails rather than taking the machine's."""
    import json
    import resource
    import subprocess

    requests = tmp_path / "r.jsonl"
    with open(requests, "wb") as f:
        f.truncate(1 << 30)  # a hole: no disk spent on it
    with open(requests, "ab") as f:
        f.write(b"\n" + REQUEST.read_bytes().replace(b"\n", b"") + b"\n")

    def bounded():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 28, 3 << 28))

    done = subprocess.run(RPL + ["diff", str(APUTURE), str(APUTURE), "--requests", str(requests), "--format", "json"],
                          capture_output=True, timeout=120, preexec_fn=bounded)
    assert done.returncode == 0, done.stderr
    assert {k: v for k, v in json.loads(done.stdout).items() if k in ("requests", "rejected")} == \
        {"requests": 2, "rejected": 1}
