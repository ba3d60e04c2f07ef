"""CRM connectors: mirror customer records into Écoute's customer index."""
