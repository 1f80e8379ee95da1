"""Decide a logged request again, with the policy text that decided it (`rpl log --replay`)."""
from __future__ import annotations

import datetime

from rplang.compiler.checked import source_digest, table_files
from rplang.policy_lang.errors import PolicyError, RplError
from rplang.runtime import load_policy_text
from rplang.stream import error_json

from .log_store import policy_text


class TextUnavailable(Exception):
    """The log no longer holds the policy text a decision was made with."""


def replay(connection, entry: dict) -> dict:
    """`{"id", "request_id", "line", "policy", "version", "text_hash", "same", "recorded", "replayed"}`:
    the outputs recorded and those decided now; `decision` holds the whole new decision."""
    found = policy_text(connection, entry["text_hash"])
    if found is None:
        raise TextUnavailable(f"decision {entry['id']}: the text of {entry['policy']} "
                              f"{entry['text_hash']} is no longer in the log")
    file, text = found
    try:
        policy = load_policy_text(text, file, cache=True)
    except PolicyError as error:  # a text that was served compiled then: rpl itself has changed
        raise TextUnavailable(f"decision {entry['id']}: the recorded text no longer compiles:\n{error}")
    if "sha256:" + source_digest(text, policy.checked) != entry["text_hash"]:
        # the log holds the text, not the CSV files its tables read: they were read again, and differ
        tables = ", ".join(sorted(table_files(policy.checked))) or "none"
        raise TextUnavailable(f"decision {entry['id']}: the files of {entry['policy']}'s tables ({tables}) have "
                              "changed since it was decided: it cannot be decided again as it was")
    result = {key: entry[key] for key in ("id", "request_id", "line", "policy", "version", "text_hash")}
    try:
        as_of = datetime.date.fromisoformat(entry["as_of"]) if entry["as_of"] else None
        if entry["partial"]:
            decision = policy.decide_partial_json(entry["request"], as_of=as_of)
        else:
            decision = policy.decide_json(entry["request"], as_of)
        replayed = decision.outputs_json()
        result["decision"] = decision.to_json()
    except RplError as error:
        replayed = None
        result["error"] = error_json(error)
    result.update(same=replayed == entry["outputs"], recorded=entry["outputs"], replayed=replayed)
    return result
