"""The recorder's file format: Avro object container files per ticker, their block index, the
file naming, the archive scan and repair, and the peek at a record's type. The recorder writes
it; the replayer, the backtests and `ttxt files` read it."""
