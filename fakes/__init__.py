"""Loopback fake servers speaking the real wire formats (docs/PROTOCOLS.md §2-4), for tests and the demo.

Stdlib only. Each server is a ThreadingHTTPServer subclass usable as a context manager::

    with FakeDaraja() as daraja:            # binds 127.0.0.1, port 0
        settings.DARAJA_BASE_URL = daraja.base_url

or from the command line: ``python -m fakes daraja --port 8101``.
"""
