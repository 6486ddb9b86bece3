"""People and signing in: the ``User`` model, passwords and signed links (``security``), sign-in
and resets (``services``), the pending second factor (``sign_in``), two-factor sign-in
(``two_factor``), and their pages."""
