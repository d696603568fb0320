"""The development backend: login, token refresh and a protected resource, plus the page itself.

Start it with ``python -m server_stub``; build it in tests with ``server_stub.app.create_app``.
"""
