"""The Jupyter messaging core: pure data in, events out. No sockets, no asyncio, no terminal."""
