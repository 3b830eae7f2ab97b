"""Quotes (a syncable SFA entity)."""
