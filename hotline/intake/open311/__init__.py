"""Open311 GeoReport v2 (``/open311/``): services from the category catalogue, requests filed
through ``do_receive`` and followed by their acceptance number. ``formats`` renders the spec's
XML and JSON without Django; ``service`` holds the rules; ``views`` are thin."""
