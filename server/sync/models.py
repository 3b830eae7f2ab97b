"""Tables owned by the sync engine (filled in by the sync issue)."""
