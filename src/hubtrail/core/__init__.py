"""core: the domain rules, pure (no HTTP, no SQL)."""
