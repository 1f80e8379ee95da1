"""benchmarks/plain_aputure.py, the plain limit of `bench_plain.py`: it decides without
validating, and must still give the validating baseline's outputs on valid requests, or the
ratio to it would compare different work."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, load_benchmark

gen_corpus = load_benchmark("gen_corpus")
baseline = load_benchmark("baseline_aputure")


def test_the_plain_script_writes_the_baselines_outputs_for_every_request():
    lines = list(gen_corpus.generate_lines(500, 3))
    lines += [json.dumps(json.loads(path.read_text())) for path in
              sorted((ROOT / "policies" / "aputure" / "requests").glob("[0-9]*.json"))]
    written = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "plain_aputure.py")],
                             input="\n".join(lines) + "\n", capture_output=True, text=True,
                             check=True, timeout=120).stdout.splitlines()
    assert [json.loads(line) for line in written] == \
        [baseline.decide_request(json.loads(line)) for line in lines]
