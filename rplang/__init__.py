"""rplang: returns policies as code. The embedding API, in one place."""
from rplang.policy_lang.errors import Diagnostic, PolicyError, RequestError, RequestProblem, RplError
from rplang.runtime import CompiledPolicy, Decision, load_policy, load_policy_text

__all__ = ["CompiledPolicy", "Decision", "Diagnostic", "PolicyError", "RequestError",
           "RequestProblem", "RplError", "load_policy", "load_policy_text"]
