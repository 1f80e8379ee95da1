"""What `/v1/policies` says about a served policy: its name, version, hash, parameters, clauses, outcomes."""
from __future__ import annotations

from rplang.compiler.ir import DatedParam
from rplang.compiler.show import show


def policy_summary(served) -> dict:
    checked = served.checked
    return {"name": served.name, "title": checked.name, "version": served.version,
            "text_hash": served.text_hash, "loaded_at": served.loaded_at,
            "files": served.hashes, "versions": _versions(served)}


def describe_policy(served) -> dict:
    checked = served.checked
    return {
        **policy_summary(served),
        "currency": checked.currency,
        "calendar": checked.calendar,
        "parameters": [_parameter(p) for p in checked.parameters.values()],
        "clauses": dict(checked.clauses),
        "outcomes": [{"name": o.name, "label": o.label, "rank": o.rank, "overrides_all": o.overrides_all}
                     for o in checked.outcomes],
        "outputs": [{"name": o.name, "kind": o.kind, "type": o.type.describe() if o.type else "text"}
                    for o in checked.outputs],
        "rules": [r.name for r in checked.rules],
    }


def _parameter(param) -> dict:
    data = {"name": param.name, "type": param.type.describe()}
    if isinstance(param, DatedParam):
        data["value"] = show(param.value, param.type) if param.value is not None else None
        data["periods"] = [{"from": first.isoformat() if first else None, "until": last.isoformat() if last else None,
                            "value": show(value, param.type), "label": label}
                           for first, last, value, label in param.periods]
    else:
        data["value"] = show(param.value, param.type)
    return data


def _versions(served) -> list[dict] | None:
    """For a folder of versions: each version, the date it takes effect, its file and hash."""
    if not served.is_history:
        return None
    hashes = served.hashes
    return [{"version": v.checked.version or None, "effective": v.checked.effective.isoformat(),
             "file": v.checked.source_name, "text_hash": hashes[v.checked.source_name]}
            for v in served.policy.versions]
