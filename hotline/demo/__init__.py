"""The demo city 示范市 (``city``, ``data``), its knowledge base (``knowledge``), its call
centre (``desk``), the bulk loader of synthetic orders (``bulk``), and ``start``: what the
launcher calls to load all of it into a new database."""
