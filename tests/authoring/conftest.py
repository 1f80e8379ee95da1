"""The formatter's cases are unformatted policies on purpose: not for the examples plugin to collect."""
collect_ignore_glob = ["fmt_cases/*"]
