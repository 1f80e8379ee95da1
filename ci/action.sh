#!/usr/bin/env bash
# The steps of the rplang GitHub Action (action.yml), one subcommand each, so that they run the
# same in the action, in another CI, and in the project's own tests.
#
#   action.sh check          rpl check, annotated on the pull request
#   action.sh fmt            rpl fmt --check
#   action.sh test           rpl test with coverage, a JUnit report and annotations
#   action.sh diff BASE      rpl diff of each policy against BASE (a git revision) over its corpus,
#                            into impact.md; with RPL_FAIL_ON, exit 1 when the gate is crossed
#
# Settings (the action's inputs): RPL_POLICIES (default policies), RPL_COVERAGE (default 100),
# RPL_CORPUS (a corpus for every policy; by default each policy's NAME/corpus.jsonl),
# RPL_FAIL_ON (outcome-change, money-change or any; empty: report only), RPL_SHOW (default 3),
# RPL_REPORTS (a folder for reports, default rpl-reports).
set -uo pipefail

policies="${RPL_POLICIES:-policies}"
reports="${RPL_REPORTS:-rpl-reports}"

policy_files() {
  find "$policies" -name '*.rpl' ! -name examples.rpl | sort
}

case "${1:-}" in
  check)
    rpl check --format github "$policies"
    ;;
  fmt)
    rpl fmt --check "$policies"
    ;;
  test)
    mkdir -p "$reports"
    rpl test "$policies" --format junit --fail-under "${RPL_COVERAGE:-100}" \
      --coverage-report "$reports/coverage.json" > "$reports/junit.xml"
    status=$?
    rpl test "$policies" --format github 2> /dev/null  # an annotation at each failing example
    exit "$status"
    ;;
  diff)
    base="${2:?the base revision to compare with, like origin/main}"
    : > impact.md
    status=0
    gate=()
    [ -n "${RPL_FAIL_ON:-}" ] && gate=(--fail-on "$RPL_FAIL_ON")
    while IFS= read -r policy; do
      name=$(basename "$policy" .rpl)
      corpus="${RPL_CORPUS:-$(dirname "$policy")/$name/corpus.jsonl}"
      [ -f "$corpus" ] || { echo "$policy: no corpus ($corpus), no impact report"; continue; }
      if ! git cat-file -e "$base:$policy" 2>/dev/null; then
        echo "$policy: new in this change, no impact report"
        continue
      fi
      rpl diff "git:$base:$policy" "$policy" --requests "$corpus" --format markdown \
        --show "${RPL_SHOW:-3}" "${gate[@]}" >> impact.md || status=1
      echo >> impact.md
    done < <(policy_files)
    exit "$status"
    ;;
  *)
    echo "usage: action.sh check|fmt|test|diff BASE" >&2
    exit 64
    ;;
esac
