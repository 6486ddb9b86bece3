"""The append-only, hash-chained audit log: ``services.record`` (one entry),
``services.record_many`` (a sweep's), sealing (``tasks``) and verifying the chain."""
