"""Visits (a syncable SFA entity)."""
