"""The wire format shared by the server and the client SDK (msgspec and the standard library)."""
