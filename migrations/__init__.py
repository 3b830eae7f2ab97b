"""Alembic migrations of the Outpost schema (async env; dated revision files in ``versions/``)."""
