"""SMS in and out through a pluggable provider (``HOTLINE_SMS_PROVIDER``: "log" by default)."""
