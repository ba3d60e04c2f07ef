"""The stages `ecoute.engine.Engine` coordinates, each a small class that takes only its own config block.

collection (sources, cursors, leases), enrichment (models, routing, pseudonyms), storage (bulk writes,
spool, journal, alerts), recovery (spool replay, journal confirmation, dead-letter retry), crm (mirror and
customer directory), privacy (erasure, retention) and health (a run's record).
"""
