"""The real server process of the tests: one helper, shared with the benchmarks (``sio_server.devtools.process``)."""

from sio_server.devtools.process import DEV_ADMIN_TOKEN, ROOT, ServerProcess

ADMIN_TOKEN = DEV_ADMIN_TOKEN  # the ADMIN_TOKEN of the settings fixture and of server_factory's servers
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

__all__ = ["ADMIN", "ADMIN_TOKEN", "ROOT", "ServerProcess"]
