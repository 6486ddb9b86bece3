"""The trust's approved-tutor register: DBS checks, safeguarding training, policies, provider
access grants (``services``, ``access``), the derived status and its refresh
(``derivation``), searches and exports, pages and tasks."""
