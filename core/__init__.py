"""The bottom layer: the types every layer shares (documents, errors, config blocks) and small helpers.

Nothing in core/ imports from another Écoute package."""
