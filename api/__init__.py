"""The read-only HTTP API for other tools and /metrics (`ecoute api serve`)."""
