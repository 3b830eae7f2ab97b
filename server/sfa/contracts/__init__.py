"""Contracts: value, dates, status, progress notes, attachments and the payment schedule."""
