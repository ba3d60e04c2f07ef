"""The only package that speaks to Elasticsearch."""
