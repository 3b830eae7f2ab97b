"""A real Outpost server process on 127.0.0.1 for the benchmark, and what it costs (RSS, CPU)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on right now, on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory figure (``VmRSS``, ``VmHWM``) in KiB; 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class RssSampler:
    """Samples a process's VmRSS every ``interval`` seconds in a thread; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, status_kib(self.pid, "VmRSS"))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak_kib = status_kib(self.pid, "VmRSS")
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.peak_kib = max(self.peak_kib, status_kib(self.pid, "VmRSS"))


class ServerProcess:
    """``python -m uvicorn server.cli:app_from_env --factory`` with its own environment.

    ``profile_to`` runs it under cProfile (the profile is written when it stops);
    ``stats_to`` times its SQL statements (``bench.server_stats``; see ``mark``).
    """

    def __init__(self, root: Path, database_url: str, log_path: Path, *,
                 profile_to: Path | None = None, stats_to: Path | None = None) -> None:
        self.root, self.log_path = root, log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "OUTPOST_DATABASE_URL": database_url,
                    "OUTPOST_SECRET_KEY": os.urandom(16).hex(), "PYTHONUNBUFFERED": "1"}
        self.profiling = profile_to is not None or stats_to is not None
        self.stats_to = stats_to
        profile = ["-m", "cProfile", "-o", str(profile_to)] if profile_to else []
        runner = ["-m", "bench.server_stats", str(stats_to)] if stats_to else ["-m", "uvicorn"]
        self.command = [sys.executable, *profile, *runner, "server.cli:app_from_env",
                        "--factory", "--host", "127.0.0.1", "--port", str(self.port),
                        "--log-level", "warning", "--no-access-log"]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> None:
        """Start the process and wait until ``/health`` answers."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps writing to it
        self.proc = subprocess.Popen(self.command, cwd=self.root, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.base_url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s:\n"
                           f"{self.log()}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (SIGINT under cProfile), then SIGKILL if it hangs.

        uvicorn shuts down cleanly and then re-raises the signal it caught: a SIGTERM would kill
        the process before cProfile writes, a SIGINT becomes a KeyboardInterrupt it survives.
        """
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT if self.profiling else signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def mark(self, label: str) -> None:
        """With ``stats_to``: file the SQL timed since the last mark under ``label``."""
        if self.stats_to is None or self.proc is None:
            return
        size = self.stats_to.stat().st_size if self.stats_to.exists() else 0
        self.stats_to.with_name(self.stats_to.name + ".label").write_text(label)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.stats_to.exists() and self.stats_to.stat().st_size > size:
                return
            time.sleep(0.01)

    def log(self, lines: int = 40) -> str:
        """The tail of the server's output."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def rss_mib(self) -> float:
        """Resident memory now, in MiB."""
        return status_kib(self.pid, "VmRSS") / 1024

    def hwm_mib(self) -> float:
        """The process's peak resident memory so far (VmHWM), in MiB."""
        return status_kib(self.pid, "VmHWM") / 1024

    def cpu(self) -> float:
        """CPU seconds used so far."""
        return cpu_seconds(self.pid)

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
