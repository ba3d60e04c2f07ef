"""Pure NLP components: no I/O, batched, models loaded once per process."""
