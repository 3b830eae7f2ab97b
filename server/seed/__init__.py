"""Deterministic demo data for ``outpost seed-demo``."""
