"""Data of the fictional city 示范市 used by ``manage.py load_demo``: its organisation
(``org``), its catalogue with dispatch routes and request templates (``catalogue``), and the
names and places generated requests are made of (``people``). All names, numbers and places
are invented."""
