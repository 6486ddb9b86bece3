"""Each person's home page, the tutor's next step (``tutor``), and what every page's header shows
(``navigation``)."""
