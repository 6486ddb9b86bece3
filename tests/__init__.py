"""The test suite: folders mirror the packages; shared factories and helpers live here."""
