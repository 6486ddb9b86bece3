"""Where the domains' event subscribers are wired: once, by ``create_app``.

A lower domain announces what happened through a signal in its own ``events.py``; a higher
domain that must act on it subscribes here, so the lower one never imports the higher.
"""

from __future__ import annotations

_connected = False


def connect_subscribers() -> None:
    global _connected
    if _connected:
        return
    _connected = True
