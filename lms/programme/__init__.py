"""The journey to the course: nominations and eligibility (``nominations``), CSV imports
(``imports``), the training window (``window``: deadline, extensions, lapsing, reminders), their
policies, pages and tasks. Announces ``events.enrolment_opened``."""
