"""I/O adapters: the REST client, the kernel websocket, the embedded local gateway."""
