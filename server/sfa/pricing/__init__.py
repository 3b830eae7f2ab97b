"""Server-authoritative pricing of quotes and orders, and discount authority (docs/pricing.md)."""
