"""What a run left behind (trace, stderr, exit status, timing) turned into a `RunResult`.

Pure functions, kept apart from running (execute.py) so the rules that call a run ok, a
crash, a hang or an error can be read and tested on their own: they decide verdicts, and so
they are part of every difftest cache key (pipeline.py).
"""

from __future__ import annotations

import re
import signal

from . import sandbox as _sandbox
from .records import RunResult

EXIT_BATCH = 2  # archeo/shim/harness.h: the batch is malformed
EXIT_OOM = 3  # the pool could not be allocated
STDERR_EXCERPT = 4000

_ASAN = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|MemorySanitizer|ThreadSanitizer): ([A-Za-z0-9_-]+)")
_UBSAN = re.compile(r"runtime error: (.*)")
_UBSAN_KINDS = (
    ("null pointer", "null-pointer"),
    ("misaligned address", "misaligned"),
    ("signed integer overflow", "signed-overflow"),
    ("shift exponent", "shift"),
    ("left shift", "shift"),
    ("out of bounds", "out-of-bounds"),
    ("not a valid value", "invalid-value"),
    ("division by zero", "divide-by-zero"),
    ("pointer overflow", "pointer-overflow"),
    ("unreachable", "unreachable"),
)
_SANITIZER_PREFIX = {"AddressSanitizer": "asan", "LeakSanitizer": "lsan", "MemorySanitizer": "msan", "ThreadSanitizer": "tsan"}


def classify(
    stdout: bytes | str,
    stderr: str,
    returncode: int | None,
    timed_out: bool = False,
    seconds: float = 0.0,
    notes: tuple[str, ...] = (),
    batch_ops: int | None = None,
) -> RunResult:
    """Turn what a run left behind into a RunResult (a pure function: easy to test).

    ok: `END` and exit 0. crash: a fatal signal, a `SIGNAL` line, a sanitizer report, or a
    system call the sandbox stopped (kind `sandbox: <call>`).
    hang: the wall-clock timeout, or the CPU limit (SIGXCPU, or SIGKILL at the hard limit).
    error: anything else (a malformed batch, out of memory, the trace-size limit, a non-zero exit).

    `batch_ops`, when given, is trusted as the line count of a complete trace (`END` and exit
    0: the harness wrote one line per operation), which saves counting megabytes of trace.
    """
    text = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
    end = text.rfind("\n") + 1  # complete lines only: a half-written last line is not a result
    last = text[text.rfind("\n", 0, end - 1) + 1 : end - 1] if end else ""
    ended = last == "END"
    signal_line = int(last[7:]) if last.startswith("SIGNAL ") and last[7:].isdigit() else None
    if ended and returncode == 0 and batch_ops is not None:
        count = batch_ops
    else:
        count = text.count("\n", 0, end) - (1 if ended or signal_line is not None else 0)
    excerpt = stderr[:STDERR_EXCERPT]
    base = dict(stdout=text, lines=count, returncode=returncode, stderr=excerpt, seconds=seconds, notes=notes)
    died = -returncode if returncode is not None and returncode < 0 else None
    sig = died or signal_line

    if timed_out:
        return RunResult("hang", kind="timeout", signal=sig, **base)
    sanitizer = sanitizer_kind(stderr)
    if sanitizer:
        return RunResult("crash", kind=sanitizer, signal=sig, **base)
    denied = _sandbox.denied_call(stderr) if sig == signal.SIGSYS else None
    if denied:
        return RunResult("crash", kind=f"sandbox: {denied}", signal=sig, **base)
    if sig == signal.SIGXFSZ:  # our trace-size limit, not something the tree did
        return RunResult("error", kind="output-limit", signal=sig, **base)
    if sig in (signal.SIGXCPU, signal.SIGPROF) or (died == signal.SIGKILL and not signal_line):
        return RunResult("hang", kind="cpu-limit", signal=sig, **base)
    if sig is not None:
        return RunResult("crash", kind=signal_name(sig), signal=sig, **base)
    if returncode == 0 and ended:
        return RunResult("ok", **base)
    if returncode == EXIT_BATCH:
        kind = "batch"
    elif returncode == EXIT_OOM:
        kind = "oom"
    elif returncode == 0:
        kind = "no-end"
    else:
        kind = f"exit-{returncode}"
    return RunResult("error", kind=kind, **base)


def sanitizer_kind(stderr: str) -> str:
    """`asan:heap-buffer-overflow`, `ubsan:null-pointer`, ... from a sanitizer report, or ""."""
    found = _ASAN.search(stderr)
    if found:
        return f"{_SANITIZER_PREFIX[found.group(1)]}:{found.group(2)}"
    found = _UBSAN.search(stderr)
    if found:
        message = found.group(1)
        for needle, kind in _UBSAN_KINDS:
            if needle in message:
                return f"ubsan:{kind}"
        words = re.findall(r"[a-z]+", message.lower())[:4]
        return "ubsan:" + ("-".join(words) or "undefined")
    return ""


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


