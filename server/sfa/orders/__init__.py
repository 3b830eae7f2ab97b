"""Orders (a syncable SFA entity)."""
