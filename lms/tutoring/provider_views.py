"""Providers' pages: uploading session logs by CSV."""
