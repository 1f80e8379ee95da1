"""Proving, as a library: Ctrl-C stops a run however it arrives."""
import signal

import pytest

from rplang.runtime import load_policy_text
from rplang.verify import prove

from .test_cli import SMALL


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # printed as ignored
def test_ctrl_c_inside_a_z3_objects_del_stops_the_next_question():
    """Python raises Ctrl-C where the program is; in a z3 object's `__del__` it was printed as
    ignored (a traceback) and lost, and the run went on."""
    policy = load_policy_text(SMALL + "property small: outcome is approve\n", "<test>")

    class Temporary:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)  # handled within this __del__

    with prove.ctrl_c_stops():
        Temporary()
        with pytest.raises(KeyboardInterrupt):
            prove.verify_policy(policy)
    assert prove.verify_policy(policy)[0].status == "refuted"  # outside, remembered no more
