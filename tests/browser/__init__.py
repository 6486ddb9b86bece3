"""Journeys through the app in a real browser (Debian's Chromium, driven by Playwright)."""
