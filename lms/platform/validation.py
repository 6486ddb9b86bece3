"""Checks on typed-in values shared by forms, CSV imports and the API."""

from __future__ import annotations

from lms.platform.errors import DomainError


def required(value: str | None, field: str, label: str, max_length: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"Enter the {label}", field=field)
    if len(value) > max_length:
        raise DomainError(f"{label.capitalize()} must be {max_length} characters or fewer",
                          field=field)
    return value

