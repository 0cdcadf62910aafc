"""Shared building blocks below every stage: the bounded HTTP client, parsing and link rules."""
