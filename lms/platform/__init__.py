"""The platform every domain stands on: configuration, the database and other extensions, errors,
the clock (UK dates too), column types, logging, encryption, counters and rate limits, background
jobs and the Celery app, bulk writes, spreadsheets, PDFs, the web shell (security headers, error
pages, the ``lms`` blueprint), form basics, roles and the authorisation mechanism (``access``,
``policy``, ``can``, ``require``). It knows no domain's tables."""
