"""Outpost server: the Litestar application, the sync engine and the SFA domain."""
