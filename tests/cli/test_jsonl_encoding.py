"""How `rpl eval --jsonl` writes its lines: compact JSON in UTF-8 (orjson, and the standard
library for the integers wider than 64 bits that orjson refuses), the same in one process or several."""
from __future__ import annotations

import json

from tests.cli.conftest import run

# a whole number of 45 digits, which JSON allows and orjson cannot write
CUBE = "request:\n  n: integer\n  label: optional text\nrule r:\n  when true\n  then set big to n * n * n\n" \
       "output big: optional integer\n"
WIDE = 999_999_999_999_999


def test_a_number_wider_than_64_bits_is_written_exactly_and_compactly(tmp_path):
    policy = tmp_path / "cube.rpl"
    policy.write_text(CUBE)
    lines = f'{{"n": {WIDE}}}\n{{"n": 2, "label": "été"}}\n'
    for jobs in ("1", "2"):
        result = run("eval", policy, "--jsonl", "-", "--jobs", jobs, input=lines)
        assert result.code == 0, result.both
        wide, small = result.out.splitlines()
        assert json.loads(wide)["outputs"] == {"big": WIDE ** 3}
        assert json.loads(small)["outputs"] == {"big": 8}
        assert wide.startswith('{"outputs":{"big":') and small.startswith('{"outputs":{"big":8}')


def test_each_line_is_the_document_rpl_eval_prints(tmp_path):
    policy = tmp_path / "cube.rpl"
    policy.write_text(CUBE)
    request = '{"n": 3, "label": "été"}'
    one = run("eval", policy, "-", input=request)
    line = run("eval", policy, "--jsonl", "-", input=request + "\n")
    assert json.loads(line.out) == json.loads(one.out)


def test_text_is_written_as_utf_8_characters_not_escapes(tmp_path):
    policy = tmp_path / "cube.rpl"
    policy.write_text(CUBE)
    result = run("eval", policy, "--jsonl", "-", input='{"n": 3, "étiquette": "été"}\n')
    assert result.code == 2
    assert '"received":"été"' in result.out and "\\u" not in result.out
