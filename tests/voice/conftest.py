"""HOTLINE_TEST_LOOP=uvloop runs the voice tests' event loops on uvloop, the loop the gateway
process runs on (hotline.voice.server.loop_factory); unset, asyncio's own loop."""

from __future__ import annotations

import asyncio
import os

if os.environ.get("HOTLINE_TEST_LOOP") == "uvloop":
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
