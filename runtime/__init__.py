"""The rpl runtime: load a policy once, decide requests many times, explain every decision."""
from .decide import CompiledPolicy
from .decision import Application, Decision, OutputValue
from .history import PolicyHistory
from .loading import load_history, load_policy, load_policy_text

__all__ = ["Application", "CompiledPolicy", "Decision", "OutputValue", "PolicyHistory",
           "load_history", "load_policy", "load_policy_text"]
