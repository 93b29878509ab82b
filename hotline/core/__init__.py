"""What every domain shares and that knows no domain (see docs/architecture.md)."""
