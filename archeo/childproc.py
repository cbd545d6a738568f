"""Child-process plumbing for execute.py: in-memory files for the batch and the trace, a
pidfd wait that wakes the moment the child exits, and killing the run's whole process group.

Kept apart from `Executor` because none of it knows what a batch or a result is: it is the
Linux mechanics (memfd, pidfd, process groups), with fallbacks where they are missing.
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import subprocess
import tempfile
import time


def memfile(name: str, data: bytes = b"") -> int:
    """An anonymous in-memory file (memfd) holding `data`, positioned at 0.

    Why files and not pipes: the child reads the whole batch and writes the whole trace with
    no Python loop in between (a 100,000-op trace is megabytes; pumping it through a pipe with
    `communicate` cost more than running the batch), and we read it back with one pread.
    """
    try:
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # not Linux: an unlinked temporary file does the same
        fd = os.dup(tempfile.TemporaryFile().fileno())
    if data:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    return fd


def read_all(fd: int, limit: int | None = None) -> bytes:
    size = os.fstat(fd).st_size
    if limit is not None:
        size = min(size, limit)
    return os.pread(fd, size, 0) if size else b""


def read_text(fd: int) -> str:
    """The whole trace as text, decoded straight from the in-memory file (no bytes copy)."""
    size = os.fstat(fd).st_size
    if not size:
        return ""
    try:
        with mmap.mmap(fd, size, prot=mmap.PROT_READ) as view, memoryview(view) as data:
            return str(data, "utf-8", "replace")
    except (OSError, ValueError):
        return os.pread(fd, size, 0).decode("utf-8", "replace")


def wait_exit(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for the child to exit, at most `timeout` seconds; True when it did.

    A pidfd wakes us the moment the child exits (Popen.wait(timeout) polls with sleeps of up
    to 50 ms, which would dominate short runs).
    """
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                # poll() takes an int of milliseconds: a joined batch of 100,000 segments with
                # confirming limits asks for more than that holds, so wait in hours at most.
                if poller.poll(min(max(1, int(left * 1000)), 3_600_000)):
                    proc.wait()
                    return True
            except InterruptedError:
                continue
    finally:
        os.close(pidfd)


def kill_group(pid: int) -> None:
    """Kill the run's process group (its session: the harness makes one first thing), and the
    process itself, should it not have made it yet."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
