"""Messages per second and p99 into contacts for three inbound channels, on PostgreSQL.

Each channel's measurement lives in its own module (``bench/channels_email.py``: mails over a
real SMTP exchange with the product's receiver; ``bench/channels_sms.py``: signed inbound SMS
webhooks over HTTP to the ASGI application; ``bench/channels_open311.py``: ``POST
requests.json`` over HTTP). They run one after the other, never side by side (two cores), and
this prints one JSON line with every figure. See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHANNELS = {"email": ("bench.channels_email", 200), "sms": ("bench.channels_sms", 500),
            "open311": ("bench.channels_open311", 500)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, (_module, count) in CHANNELS.items():
        parser.add_argument(f"--{name}", type=int, default=count,
                            help=f"{name} messages to send (default {count}; 0 skips)")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {}
    failed = False
    for name, (module, _count) in CHANNELS.items():
        count = getattr(args, name)
        if count <= 0:
            continue
        try:
            figures.update(importlib.import_module(module).measure(count))
        except Exception as error:  # one channel's failure is reported; the others still run
            figures[f"{name}_error"] = f"{type(error).__name__}: {error}"
            failed = True
    print(json.dumps(figures, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
