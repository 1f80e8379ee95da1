"""rpl replay: decide past requests where they are, in DuckDB or Spark."""
