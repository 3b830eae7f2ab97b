"""Calendar (a syncable SFA entity)."""
