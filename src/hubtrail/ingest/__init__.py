"""ingest: one module per incoming wire format, each turning requests into canonical messages."""
