"""Fax over G.711 audio (T.30): spandsp through ctypes, TIFF pages to PDF, delivery to intake."""
