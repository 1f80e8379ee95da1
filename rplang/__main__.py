"""`python -m rplang`: the `rpl` command."""
from rplang.cli import main

main()
