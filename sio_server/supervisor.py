"""``python -m sio_server --workers N``: N server processes on one port, started and watched by this one.

The supervisor imports the server once, binds and listens on ``HOST``:``PORT``,
then forks the workers (``multiprocessing``'s fork context): a worker starts
serving as soon as it has built its app (no interpreter start, no imports: a
worker started again after a crash is back in well under a second), and every
worker accepts from that one listening socket: one accept queue, so a
connection waits in the backlog instead of being refused while the workers
start or one is restarted, and a busy worker leaves new connections to an idle
one. (The first design, each worker a new ``python -m sio_server`` binding its
own ``SO_REUSEPORT`` socket, gave the worker that listened first most of a
reconnecting crowd, and both imported the server at once while the crowd
retried: docs/benchmarks.md, resume storm.) The socket also has
``SO_REUSEPORT``, so a new supervisor can bind while an old one's workers drain.
The supervisor starts no thread and no event loop before it forks.
The workers share sessions as separate
processes do (README "Several processes"): Redis leases and the Redis client
manager, with the PostgreSQL store or the file store of one ``DATA_DIR``.

The supervisor serves nothing itself. It starts the workers, starts again one
that dies (at once, then after a back-off doubling to ``MAX_BACKOFF`` while a
worker keeps dying within ``STABLE_AFTER`` seconds of its start), forwards
SIGTERM and SIGINT to every worker and exits when they have all exited (after
``settings.shutdown_grace`` + ``STOP_MARGIN`` seconds it SIGKILLs the rest).
Each worker gets ``PR_SET_PDEATHSIG``: a SIGKILLed supervisor takes its
workers with it instead of leaving them on the port.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from .settings import Settings

log = logging.getLogger("sio_server.supervisor")
MAX_BACKOFF = 5.0
STABLE_AFTER = 10.0
STOP_MARGIN = 2.5
_PR_SET_PDEATHSIG = 1


def refusal(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes cannot run with ``settings``, or None when they can.

    Allowed with 2 or more: ``REDIS_URL`` (leases and Socket.IO messages between the workers) with
    ``DATABASE_URL`` (PostgreSQL store) or without it (the file store of ``DATA_DIR``, shared by the
    workers of this machine). Refused: no ``REDIS_URL`` (no process could tell which worker holds a
    session), and ``PORT=0`` (no client or proxy would know where to connect).
    """
    if workers <= 1:
        return None
    if not settings.redis_url:
        store = "PostgreSQL (DATABASE_URL)" if settings.database_url else f"the file store ({settings.data_dir})"
        return (
            f"--workers {workers} needs REDIS_URL: the workers share sessions through Redis leases and Socket.IO "
            f"messages, and without it two workers could run one session's turns on {store}. Set REDIS_URL "
            "(e.g. redis://127.0.0.1:6379/0), or run one worker"
        )
    if settings.port == 0:
        return f"--workers {workers} needs a fixed PORT: with PORT=0 no client or proxy would know where to connect"
    return None


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """The workers' one listening socket on ``host``:``port`` (``SO_REUSEADDR`` and ``SO_REUSEPORT``)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(backlog)
    return sock


def _die_with_parent() -> None:
    """Linux: the worker gets SIGTERM when the supervisor dies, however it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _worker_main(serve: Callable[[socket.socket], None], sock: socket.socket) -> None:
    """A forked worker: die with the supervisor, drop its signal handlers, serve on ``sock`` until stopped."""
    _die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the server installs its own once its loop runs
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    serve(sock)


@dataclass
class Worker:
    """One worker slot: its current process and how often it died young."""

    index: int
    proc: BaseProcess | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    starts: int = 0


class Supervisor:
    """Start ``count`` workers, each forked to run ``serve(sock)``; keep them running; stop them on SIGTERM."""

    def __init__(
        self, count: int, shutdown_grace: float, sock: socket.socket, serve: Callable[[socket.socket], None]
    ) -> None:
        self.workers = [Worker(i) for i in range(count)]
        self.stop_timeout = shutdown_grace + STOP_MARGIN
        self.sock = sock  # kept open for the supervisor's life: a worker started again accepts from it too
        self.serve = serve
        self.stopping = False
        self.forks = multiprocessing.get_context("fork")

    def _start(self, worker: Worker) -> None:
        worker.proc = self.forks.Process(
            target=_worker_main, args=(self.serve, self.sock), name=f"worker-{worker.index}"
        )
        worker.proc.start()
        worker.started = time.monotonic()
        worker.restart_at = None
        worker.starts += 1
        log.info("worker %d started (pid %d)", worker.index, worker.proc.pid)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if not self.stopping:
            log.info("supervisor: %s, stopping the workers", signal.Signals(signum).name)
        self.stopping = True
        for worker in self.workers:
            if worker.proc is not None and worker.proc.exitcode is None:
                worker.proc.terminate()

    def _reap(self, now: float) -> None:
        """Notice dead workers and schedule their restart."""
        for worker in self.workers:
            if worker.proc is None or worker.restart_at is not None:
                continue
            code = worker.proc.exitcode
            if code is None:
                continue
            lived = now - worker.started
            worker.quick_deaths = worker.quick_deaths + 1 if lived < STABLE_AFTER else 0
            delay = 0.0 if worker.quick_deaths <= 1 else min(MAX_BACKOFF, 0.25 * 2 ** (worker.quick_deaths - 2))
            log.warning("worker %d (pid %d) exited with %s after %.1f s; starting it again in %.2f s",
                        worker.index, worker.proc.pid, code, lived, delay)
            worker.restart_at = now + delay

    def run(self) -> int:
        """Supervise until SIGTERM/SIGINT; the exit status (0 when every worker stopped by itself)."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for worker in self.workers:
            self._start(worker)
        while not self.stopping:
            now = time.monotonic()
            self._reap(now)
            for worker in self.workers:
                if worker.restart_at is not None and now >= worker.restart_at and not self.stopping:
                    self._start(worker)
            time.sleep(0.05)
        return self._stop()

    def _stop(self) -> int:
        deadline = time.monotonic() + self.stop_timeout
        status = 0
        for worker in self.workers:
            if worker.proc is None:
                continue
            worker.proc.join(max(0.0, deadline - time.monotonic()))
            code = worker.proc.exitcode
            if code is None:
                log.error("worker %d (pid %d) did not stop within %.1f s; killing it",
                          worker.index, worker.proc.pid, self.stop_timeout)
                worker.proc.kill()
                worker.proc.join()
                code = worker.proc.exitcode
            if worker.restart_at is None and code not in (0, -signal.SIGTERM):
                status = 1
        log.info("supervisor: every worker stopped")
        return status
