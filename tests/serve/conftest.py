"""The server shared by the test modules that only read: starting one costs seconds, deciding
microseconds. Modules that change a server's files, or stop it, start their own."""
import pytest

from tests.conftest import POLICIES

from .server import Server


@pytest.fixture(scope="session")
def policies_server(tmp_path_factory):
    """`rpl serve policies --no-watch`: the bundled policies, as a deployment would serve them."""
    server = Server(POLICIES, "--no-watch", log_dir=tmp_path_factory.mktemp("serve"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def client(policies_server):
    import httpx

    with httpx.Client(base_url=policies_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def tmp_folder(tmp_path):
    """The server's temporary folder: TMPDIR, where `rpl serve --workers N` makes its metrics folder."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder
