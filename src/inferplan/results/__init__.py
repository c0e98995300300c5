"""Typed, JSON-serialisable outputs of the analytical core (layer 1)."""
