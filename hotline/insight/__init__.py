"""Hot issues (热点问题): clusters of similar requests and spikes against the usual level.

- ``clustering.py`` and ``spikes.py``: the algorithms, no Django imports;
- ``models.py``: each order's hashed text features, computed once (``OrderTerms``);
- ``services.py``: a run over the orders in the caller's scope for a window;
- ``views.py`` (/insight/), ``api.py`` (/api/v1/insight/), ``chart.py`` (server-rendered SVG).
"""
