"""The real server process of the tests: one helper, shared with the benchmarks (``sio_server.devtools.process``)."""

from sio_server.devtools.process import ROOT, ServerProcess

__all__ = ["ROOT", "ServerProcess"]
