"""Opportunities (a syncable SFA entity)."""
