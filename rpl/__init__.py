"""rpl: returns policies as code. The embedding API, in one place."""
from policy_lang.errors import Diagnostic, PolicyError, RequestError, RequestProblem, RplError

__all__ = ["CompiledPolicy", "Decision", "Diagnostic", "PolicyError", "RequestError",
           "RequestProblem", "RplError", "load_policy", "load_policy_text"]


def __getattr__(name: str):
    # The runtime is imported on first use, so that `rpl --help` starts fast.
    if name in ("CompiledPolicy", "Decision", "load_policy", "load_policy_text"):
        import runtime

        return getattr(runtime, name)
    raise AttributeError(name)
