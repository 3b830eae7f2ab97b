"""Pure business rules the server and the offline SDK share (stdlib and msgspec only)."""
