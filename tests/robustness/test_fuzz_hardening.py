"""Fuzz targets in the Cedar style (issue 15): each a short run in the default suite and a long
one behind `pytest -m fuzz` (RPL_FUZZ_CASES inputs per target). docs/robustness.md lists them
with the figures of the last long run.

1. `streams`: JSON-lines streams of arbitrary bytes (invalid UTF-8, surrogates, BOMs, duplicated
   keys, huge and deep lines) through `rpl eval --jsonl`, with and without `--jobs`: one output
   line per input line, no traceback, and each line's answer the API's answer on the same bytes.
2. `cache`: cache entries with random corruption: a miss, or the uncached decision; under a valid
   signature, a corrupted payload still never runs code nor escapes as an exception.
3. `unicode`: policy texts with characters from the whole Unicode range: a compiled policy or a
   PolicyError whose every diagnostic has a place; `rpl check` never meets an internal error.
"""
from __future__ import annotations

import json
import os
import random
import subprocess

import pytest

from rplang.compiler import cache, compile_policy, lower
from rplang.policy_lang import user_cache
from rplang.policy_lang.errors import RequestError, RplError
from rplang.runtime.decide import CompiledPolicy
from rplang.runtime.request_text import read_request_json

from ..cli.conftest import RPL, run
from ..conftest import APUTURE, POLICIES
from .conftest import FUZZ_CASES
from .fuzzing import SEEDS, compile_or_refuse

CORPUS = (POLICIES / "aputure" / "corpus.jsonl").read_bytes().splitlines()[:200]
MAX_LINE = 4096  # the cap the stream target runs with, so that huge lines are quick to make


# ---- 1. JSON-lines streams of arbitrary bytes ---------------------------------------------------

def _mutated(rng: random.Random, line: bytes) -> bytes:
    data = bytearray(line)
    for _ in range(rng.randrange(1, 6)):
        k = rng.randrange(6)
        i = rng.randrange(len(data) + 1)
        if k == 0 and data:
            data[min(i, len(data) - 1)] = rng.randrange(256)
        elif k == 1:
            data[i:i] = rng.choice([b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\xff", b"\xc3", b"\\ud800",
                                    b"\\udc00", b"\\ud83d\\ude00", b"\x00", b"\r", b'"', b"{", b"]"])
        elif k == 2:
            del data[i:i + rng.randrange(1, 40)]
        elif k == 3 and data:
            j = rng.randrange(len(data))
            data[i:i] = data[j:j + rng.randrange(1, 60)]
        elif k == 4:
            data[i:i] = rng.choice(list(CORPUS))[:rng.randrange(1, 80)]
        else:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))
    return bytes(data)


def random_line(rng: random.Random) -> bytes:
    k = rng.randrange(10)
    base = rng.choice(CORPUS)
    if k < 3:
        line = base
    elif k < 7:
        line = _mutated(rng, base)
    elif k == 7:
        line = base.replace(b'"kind"', b'"kind": "return", "kind"', 1) if rng.random() < 0.5 else \
            b"\xef\xbb\xbf" + base
    elif k == 8:
        depth = rng.choice([10, 1_000, 100_000])
        line = b"[" * depth + b"]" * depth if rng.random() < 0.5 else b'{"a":' * depth + b"1" + b"}" * depth
    else:
        line = b'{"request_date": "' + b"x" * rng.choice([MAX_LINE - 40, MAX_LINE, 10 * MAX_LINE]) + b'"}'
    return line.replace(b"\n", b" ")


def api_answer(policy: CompiledPolicy, raw: bytes) -> dict:
    """What `rpl eval --jsonl --outputs-only` must print for one line, from the API."""
    if len(raw) + 1 > MAX_LINE:
        return {"error": "too long"}
    if not raw.strip():
        return {"error": "empty"}
    try:
        return {"outputs": policy.decide(read_request_json(raw, MAX_LINE)).outputs_json()}
    except RequestError as error:
        return {"error": error.to_json()}
    except RplError as error:
        return {"error": {"kind": "evaluation_error", "message": str(error)}}


def _comparable(got: dict) -> dict:
    if "error" not in got:
        return got
    error = dict(got["error"])
    del error["line"]
    problems = error.get("problems") or [{}]
    if "longer than the limit" in problems[0].get("message", ""):
        return {"error": "too long"}
    if problems[0].get("message") == "an empty line: expected a request":
        return {"error": "empty"}
    return {"error": error}


def check_stream(policy: CompiledPolicy, lines: list[bytes], jobs: int) -> None:
    stream = b"".join(line + b"\n" for line in lines)
    done = subprocess.run(RPL + ["eval", str(APUTURE), "--jsonl", "-", "--outputs-only", "--jobs", str(jobs),
                                 "--max-request-bytes", str(MAX_LINE)], input=stream, capture_output=True,
                          timeout=600, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode in (0, 2) and "Traceback" not in err, err[-2000:]
    out = done.stdout.decode("utf-8").splitlines()
    assert len(out) == len(lines)
    for number, (raw, text) in enumerate(zip(lines, out), 1):
        got = json.loads(text)
        if "error" in got:
            assert got["error"]["line"] == number
        assert _comparable(got) == api_answer(policy, raw), (number, raw[:200])


@pytest.mark.parametrize("jobs", [1, 2])
def test_streams_of_arbitrary_bytes(jobs, aputure):
    rng = random.Random(jobs)
    check_stream(aputure, [random_line(rng) for _ in range(150)], jobs)


@pytest.mark.fuzz
@pytest.mark.parametrize("jobs", [1, 2])
def test_streams_of_arbitrary_bytes_long(jobs, aputure, capsys):
    rng = random.Random(100 + jobs)
    lines = [random_line(rng) for _ in range(FUZZ_CASES)]
    check_stream(aputure, lines, jobs)
    with capsys.disabled():
        print(f"\nstreams (--jobs {jobs}): {len(lines):,} lines, 0 failures")


# ---- 2. Cache entries with random corruption ---------------------------------------------------

def _corrupt(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    k = rng.randrange(4)
    if k == 0:
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif k == 1:
        del data[rng.randrange(len(data)):]
    elif k == 2:
        i = rng.randrange(len(data))
        data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    else:
        data = bytearray(bytes(data).replace(b"15", b"14"))
    return bytes(data)


def corrupt_cache(cases: int, folder, seed: int) -> dict:
    text = APUTURE.read_text(encoding="utf-8")
    requests = [json.loads(line) for line in CORPUS[:20]]
    fresh = CompiledPolicy(compile_policy(text, "aputure.rpl"))
    expected = [fresh.decide(r).outputs_json() for r in requests]
    cache.store(text, "aputure.rpl", fresh.checked)
    name = cache._key(text, "aputure.rpl")
    entry = folder / name
    good_entry = entry.read_bytes()
    good_payload = user_cache.read(name)
    rng = random.Random(seed)
    tally = {"miss": 0, "same": 0, "signed-refused": 0, "signed-loaded": 0}
    for n in range(cases):
        if n % 2 == 0:  # the bytes on disk, as a disk or another program may damage them
            entry.write_bytes(_corrupt(rng, good_entry))
            checked = cache.load(text, "aputure.rpl")
            if checked is None:
                tally["miss"] += 1
            else:
                policy = CompiledPolicy(lower(checked))
                assert [policy.decide(r).outputs_json() for r in requests] == expected
                tally["same"] += 1
        else:  # a damaged payload under a valid signature: still no crash, no code run
            user_cache.write(name, _corrupt(rng, good_payload))
            checked = cache.load(text, "aputure.rpl")
            tally["signed-refused" if checked is None else "signed-loaded"] += 1
    entry.write_bytes(good_entry)
    return tally


def test_corrupted_cache_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    tally = corrupt_cache(300, tmp_path, seed=1)
    assert tally["miss"] + tally["same"] == 150


@pytest.mark.fuzz
def test_corrupted_cache_entries_long(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path))
    tally = corrupt_cache(FUZZ_CASES, tmp_path, seed=2)
    with capsys.disabled():
        print(f"\ncache: {FUZZ_CASES:,} corrupted entries ({tally}), 0 failures")


# ---- 3. Policy texts over the whole Unicode range ------------------------------------------------

def _code_point(rng: random.Random) -> str:
    while True:
        c = rng.choice([rng.randrange(0x110000), rng.randrange(0x80), rng.randrange(0x3000),
                        rng.choice([0x202E, 0x2066, 0x200F, 0x0D, 0xFEFF, 0x2028, 0x85, 0x0B, 0x0C])])
        if not 0xD800 <= c <= 0xDFFF:  # text read from a file is UTF-8: no lone surrogates
            return chr(c)


def unicode_policy(rng: random.Random) -> str:
    text = rng.choice(SEEDS)
    for _ in range(rng.randrange(1, 6)):
        i = rng.randrange(len(text) + 1)
        text = text[:i] + "".join(_code_point(rng) for _ in range(rng.randrange(1, 4))) + text[i:]
    return text


def check_unicode(cases: int, seed: int, tmp_path) -> int:
    rng = random.Random(seed)
    compiled = 0
    for n in range(cases):
        text = unicode_policy(rng)
        compiled += compile_or_refuse(text) is not None
        if n % 25 == 0:  # through the command too: never an internal error
            path = tmp_path / "p.rpl"
            path.write_bytes(text.encode("utf-8"))
            result = run("check", path)
            assert result.code in (0, 1), result.err[-2000:]
    return compiled


def test_policy_texts_over_the_whole_unicode_range(tmp_path):
    check_unicode(60, seed=1, tmp_path=tmp_path)


@pytest.mark.fuzz
def test_policy_texts_over_the_whole_unicode_range_long(tmp_path, capsys):
    cases = max(FUZZ_CASES // 20, 100)  # each compiles a whole policy
    compiled = check_unicode(cases, seed=2, tmp_path=tmp_path)
    with capsys.disabled():
        print(f"\nunicode: {cases:,} policy texts ({compiled:,} compiled), 0 failures")
