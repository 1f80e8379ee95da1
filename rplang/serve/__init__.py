"""`rpl serve`: the decision service, a thin HTTP shell around the library (docs/service.md).

Nothing here is imported by `rpl` until `rpl serve` or `rpl log` runs: the service's dependencies
are the optional extra `rplang[serve]`.
"""
