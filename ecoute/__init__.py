"""Écoute: social listening joined to the customer record."""
