"""uvicorn, stopped the way a rolling update needs.

On SIGTERM a worker first drains: readiness answers 503 at once (``entrypoints.http.draining``)
while the listener keeps serving for ``drain_seconds``, long enough for a load balancer's health
check to take the process out of rotation. Then uvicorn's own shutdown runs: the listener closes,
requests in flight get up to ``timeout_graceful_shutdown`` seconds to finish, and the app's lifespan
ends (the outbox loop finishes its batch). The process then exits 0: uvicorn's ``Server`` would
raise the captured SIGTERM again once it is done, which ends the process with status 143.

A second SIGTERM, or SIGINT (Ctrl-C), skips what is left of the drain.

uvicorn builds its worker servers inside its supervisor (``Process.server``), so with several workers
the supervisor below makes its workers with ``GracefulServer``; the rest is uvicorn's.
"""

from __future__ import annotations

import logging
import signal
import socket
import time
from types import FrameType

from uvicorn import Config, Server
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from entrypoints.http.draining import DRAINING_STATE_KEY, Draining

logger = logging.getLogger("uvicorn.error")


class GracefulServer(Server):
    def __init__(self, config: Config, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self.draining = Draining()
        self._exit_at: float | None = None
        self._drain_logged = False

    def _drain_left(self) -> float:
        return 0.0 if self._exit_at is None else max(0.0, self._exit_at - time.monotonic())

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.lifespan.state[DRAINING_STATE_KEY] = self.draining
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Not the base class's handler: it records the signal to raise it again at the end.
        self.draining.begin()
        if sig == signal.SIGINT and self.should_exit:
            self.force_exit = True
        elif sig == signal.SIGINT or self._exit_at is not None or self.drain_seconds <= 0:
            self.should_exit = True
        else:
            self._exit_at = time.monotonic() + self.drain_seconds

    async def on_tick(self, counter: int) -> bool:
        if self.draining.started and not self._drain_logged:
            self._drain_logged = True  # logged here: a signal handler must not take logging's lock
            logger.info(
                "stopping: readiness answers 503; serving for %.1f s more", self._drain_left()
            )
        if self._exit_at is not None and time.monotonic() >= self._exit_at:
            self.should_exit = True
        return await super().on_tick(counter)


class _GracefulProcess(Process):
    def __init__(self, config: Config, sockets: list[socket.socket], drain_seconds: float) -> None:
        self.drain_seconds = drain_seconds
        super().__init__(config, sockets)

    @property
    def server(self) -> Server:
        if self._server is None:
            self._server = GracefulServer(self.config, self.drain_seconds)
        return self._server


class _GracefulMultiprocess(Multiprocess):
    """uvicorn's supervisor whose workers run ``GracefulServer``: the three methods that make
    workers are uvicorn's (0.54), with ``_GracefulProcess`` in place of ``Process``."""

    def __init__(self, config: Config, sockets: list[socket.socket], drain_seconds: float) -> None:
        super().__init__(config, sockets)
        self.drain_seconds = drain_seconds

    def terminate_all(self) -> None:
        """SIGTERM to every worker, and the supervisor's copy of the listening socket closed: once
        the workers close theirs after the drain, new connections are refused instead of waiting
        in the backlog of a socket nobody accepts from."""
        super().terminate_all()
        for sock in self.sockets:
            sock.close()

    def _new_process(self) -> Process:
        process = _GracefulProcess(self.config, self.sockets, self.drain_seconds)
        process.start()
        return process

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            self.processes.append(self._new_process())

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            self.processes[index] = self._new_process()

    def restart_all(self) -> None:
        for index, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._new_process()
            if not new_process.wait_until_ready(
                self.config.timeout_worker_healthcheck, self.should_exit
            ):
                new_process.kill()
                new_process.join()
                return
            old_process.terminate()
            old_process.join()
            self.processes[index] = new_process


def run(config: Config, *, drain_seconds: float) -> int:
    """Serves ``config`` (an import string for its app) until stopped; returns the exit status."""
    if config.workers > 1:
        sock = config.bind_socket()
        _GracefulMultiprocess(config, [sock], drain_seconds).run()
        return 0
    server = GracefulServer(config, drain_seconds)
    server.run()
    return 0 if server.started else STARTUP_FAILURE
