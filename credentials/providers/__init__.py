"""Tutoring providers: API keys and the verification API, which answers with the endorsement's
status and, where a trust granted access, the register's."""
