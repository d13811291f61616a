"""Text processing shared by the mind and the retriever (no I/O, no models)."""
