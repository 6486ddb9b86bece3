"""Domain errors raised by services and translated into messages by views and the API."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request; the message is safe to show the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(DomainError):
    """An object was asked to move to a state its lifecycle does not allow from here."""


class TokenInvalid(DomainError):
    """A signed link is malformed, expired, already used or for another purpose."""
