"""Collectors: one module per source family, each yielding RawPost and never writing anywhere."""
