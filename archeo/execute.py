"""Run one batch through one built program, confined; a crash or a hang is a result.

    >>> from archeo.execute import Executor
    >>> with Executor() as ex:
    ...     result = ex.run(program, batch_text)
    >>> result.status, result.kind, result.lines

Every run gets an empty environment, an empty working directory of its own (reused only when
the run before left it empty), its own session and process group (killed whole at the
wall-clock timeout), resource limits (RLIMIT_CPU below the wall
clock, so SIGXCPU fires first and the harness can still flush its trace; RLIMIT_AS;
RLIMIT_FSIZE; RLIMIT_CORE=0) and, where the machine allows it, no network: an empty network
namespace, one per executor (made once by a holder run, kept open here as a file descriptor, and
joined by each run; `shared_network=False`, or where it cannot be made, a fresh one per run as
before). Why shared: making a network namespace and tearing it down cost ~0.7 ms of CPU a run,
several times the whole sandbox (bench/README.md). It is just as empty; what the runs could do
in it together is what the seccomp filter already forbids them (no socket), docs/security.md.

Why the limits are applied by the harness itself by default (`confine="harness"`): the
difftester and the shrinker call this thousands of times, and a Python `preexec_fn` forces a
full fork of the (large) Python process for every run, while the `unshare` wrapper costs an
extra exec. The harness runtime (archeo/shim/harness_rt.c) sets the same limits and leaves
the network first thing in `main`, before any of the revision's code runs, so the program can
be started with a plain vfork/exec. `confine="preexec"` does it the classic way (resource
limits in `preexec_fn`, `unshare -rn` in front), for comparison and for programs that are not
our harness; bench/bench_execute.py measures both.

A batch may join several runs with `w` (wipe, docs/protocol.md), as difftest does to start one
process per revision instead of one per seed. The limits are then per segment, so each segment
is stopped where it would have been stopped run alone: the harness re-arms both CPU budgets at
each `w` (the fine one is sized by the longest segment), and the wall clock and the trace-size
limit are multiplied by the number of segments.

Nothing the C does raises here: a failed spawn is an `error` result too. What a run left
behind becomes a result in classify.py; the memfd/pidfd mechanics are in childproc.py.
"""

from __future__ import annotations

import os
import re
import resource
import select
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, replace

from . import sandbox as _sandbox
from .childproc import kill_group, memfile, read_all, read_text, wait_exit
from .classify import STDERR_EXCERPT, classify
from .records import Program, RunResult

_NOT_ISOLATED = re.compile(r"archeo-harness: network not isolated: (.*)")


@dataclass(frozen=True)
class Limits:
    """How much one run may take. `cpu_seconds` should stay below `timeout`."""

    timeout: float = 10.0  # wall clock, seconds
    cpu_seconds: int = 5  # RLIMIT_CPU soft limit (SIGXCPU); the hard limit is one more
    # A finer CPU budget that grows with the batch (SIGPROF): base + per operation, in ms.
    # Every correct Xen revision needs at most 0.32 µs of CPU an operation (10k large-profile ops,
    # process start included, measured); 5 µs is 15x that (and x4 for sanitizers),
    # and catches an endless loop in a fraction of a second. 0 turns it off. A batch of several
    # segments (joined by `w`) gets it per segment, sized by its longest segment.
    cpu_ms_base: float = 25.0
    cpu_ms_per_op: float = 0.005
    # The watchdog (harness --stall-ms): one operation that holds the CPU this many ms is a
    # hang (not in sanitizer builds: their reports are long work with no heartbeat). A correct
    # operation takes microseconds and the engine's own walks keep a heartbeat, so an endless
    # loop costs ~2 ms instead of the whole budget (checked every millisecond). 0 turns it off.
    stall_ms: float = 2.0
    # The step limit (harness --step-limit): in a program built with its revision's basic blocks
    # counted (archeo/build_steps.py: only confirming runs use one), more blocks than this in one
    # call into the revision is a hang. 0 turns it off; other programs never count.
    step_limit: int = 0
    memory_mb: int = 1024  # RLIMIT_AS (not applied to sanitizer builds: ASan reserves terabytes)
    fsize_mb: int = 256  # RLIMIT_FSIZE: the trace is an in-memory file, so this caps its size too


class Executor:
    """Runs programs with one set of limits; remembers (per object) whether the network can be isolated.

    Use one Executor for many runs: the network probe is made once, on the first run, and so
    is its network namespace (kept open until `close`).
    """

    def __init__(self, limits: Limits = Limits(), isolate_network: bool = True, confine: str = "harness",
                 sandbox: bool = True, shared_network: bool = True):
        if confine not in ("harness", "preexec"):
            raise ValueError(f"confine must be 'harness' or 'preexec', got {confine!r}")
        self.limits = limits
        self.confine = confine
        self.sandbox = sandbox  # False: --no-sandbox (archeo/sandbox.py)
        self.sandbox_layers: str | None = None  # "landlock+seccomp", ...; None until the first run
        self.isolate_network = isolate_network
        self.network: str | None = None  # "isolated", or why not; None until probed
        self.shared_network = shared_network and confine == "harness"
        self._net_fds: tuple[int, ...] | None = None  # the shared namespace (net, user); () if none; see _shared_net
        self._net_lock = threading.Lock()
        self._wrapper: tuple[str, ...] = ()  # `unshare` prefix in preexec mode
        self._sanitize_seen: dict[str, bool] = {}  # preexec mode: program path -> sanitizer build?
        self._base = tempfile.mkdtemp(prefix="archeo-run-")
        self._free_dirs: list[str] = []  # empty working directories to reuse (list.pop/append are atomic)
        self._facts: dict[str | bytes, tuple[bytes, list[int], int]] = {}  # see _batch_facts
        self._facts_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self._close_net()
        shutil.rmtree(self._base, ignore_errors=True)

    def _close_net(self) -> None:
        fds, self._net_fds = self._net_fds or (), ()
        for fd in fds:
            os.close(fd)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_net_fds", None):
            self._close_net()
        base = getattr(self, "_base", None)
        if base and os.path.isdir(base):
            shutil.rmtree(base, ignore_errors=True)

    # ------------------------------------------------------------ network
    @property
    def network_isolated(self) -> bool:
        return self.network == "isolated"

    @property
    def confinement(self) -> str:
        """What confined the runs so far, e.g. "landlock+seccomp+netns" (docs/security.md)."""
        layers = [self.sandbox_layers or "unprobed"] if self.sandbox_layers != "none" else []
        if self.network_isolated:
            layers.append("netns")
        return "+".join(layers) or "none"

    def probe_network(self, program_path: str) -> str:
        """Can runs leave the network? Asked once per executor; the answer is kept.

        In harness mode `run` learns this from the first run by itself; calling this first
        just asks explicitly (`program --info --no-net`).
        """
        if self.network is not None:
            return self.network
        if not self.isolate_network:
            self.network = "not requested"
        elif self.confine == "harness":
            try:
                proc = subprocess.run([program_path, "--info", "--no-net"], capture_output=True, text=True, env={},
                                      cwd=self._base, timeout=30)
                found = re.search(r"^net (.*)$", proc.stdout, re.MULTILINE)
                self.network = found.group(1) if found else f"probe failed (exit {proc.returncode})"
            except (OSError, subprocess.TimeoutExpired) as exc:
                self.network = f"probe failed ({exc})"
        else:
            self.network = "unshare is not available"
            for wrapper in (("unshare", "-n"), ("unshare", "-rn")):
                try:
                    ok = subprocess.run([*wrapper, "true"], capture_output=True, env={}, timeout=30).returncode == 0
                except (OSError, subprocess.TimeoutExpired):
                    ok = False
                if ok:
                    self._wrapper, self.network = wrapper, "isolated"
                    break
        return self.network

    # ------------------------------------------------------------ one run
    def run(
        self,
        program: str | os.PathLike | Program,
        batch_text: str | bytes,
        *,
        timeout: float | None = None,
        memory_mb: int | None = None,
        cpu_seconds: int | None = None,
        digest: bool = False,
    ) -> RunResult:
        """One batch through one program. Never raises for anything the program does.

        `digest=True` asks the harness for one `#digest` line per finished segment instead of
        its result lines (docs/protocol.md, "Digest mode"); a segment that stops still has its
        lines. The RunResult's `lines` then counts output lines, not operations.
        """
        path = program.path if isinstance(program, Program) else os.fspath(program) if program else None
        limits = replace(
            self.limits,
            timeout=timeout if timeout is not None else self.limits.timeout,
            memory_mb=memory_mb if memory_mb is not None else self.limits.memory_mb,
            cpu_seconds=cpu_seconds if cpu_seconds is not None else self.limits.cpu_seconds,
        )
        if path is None:
            return RunResult("error", "", 0, kind="no-program", stderr="the program did not build")
        if self.sandbox_layers is None:  # asked once, of the program's preinit code (archeo/sandbox.py)
            self.sandbox_layers = _sandbox.probe(path, self._base, self.sandbox)
        data, segments, n_ops = self._batch_facts(batch_text)
        if len(segments) > 1:  # per-segment limits: the whole run may take each segment's share
            limits = replace(limits, timeout=limits.timeout * len(segments), fsize_mb=limits.fsize_mb * len(segments))
        sanitize = isinstance(program, Program) and program.sanitize
        if self.confine == "preexec":
            self.probe_network(path)  # decides the `unshare` wrapper
            # an address-space limit breaks ASan, so the preexec limits need to know
            sanitize = program.sanitize if isinstance(program, Program) else self._sanitized(path)
        # In harness mode the first run is the probe: the harness says on stderr when it
        # could not leave the network, and from then on this executor stops asking.
        want_net = self.isolate_network and self.network in (None, "isolated")
        argv, preexec = self._command(path, limits, sanitize, want_net, max(segments), len(segments))
        net_fds = self._shared_net(path) if want_net and self.shared_network else ()
        if net_fds:
            argv += ["--net-fd", str(net_fds[0])] + (["--user-fd", str(net_fds[1])] if len(net_fds) > 1 else [])
        if digest:
            if self.confine != "harness":
                raise ValueError("digest mode needs confine='harness' (only our harness speaks it)")
            argv.append("--digest")
        workdir = self._take_workdir()
        start = time.perf_counter()
        stdin, stdout, stderr = memfile("batch", data), memfile("trace"), memfile("stderr")
        try:
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=stdin,
                    stdout=stdout,
                    stderr=stderr,
                    cwd=workdir,
                    env={},
                    # The harness makes its own session first thing (so Popen can vfork);
                    # anything else gets one from Popen.
                    start_new_session=self.confine != "harness",
                    preexec_fn=preexec,
                    pass_fds=net_fds,
                )
            except OSError as exc:
                return RunResult("error", "", 0, kind="spawn", stderr=str(exc), notes=self._notes())
            try:
                timed_out = not wait_exit(proc, limits.timeout)
            finally:
                if proc.returncode is None:
                    kill_group(proc.pid)
                    proc.wait()
            out, err = read_text(stdout), read_all(stderr, STDERR_EXCERPT * 4)
        finally:
            for fd in (stdin, stdout, stderr):
                os.close(fd)
            self._give_back_workdir(workdir)
        seconds = time.perf_counter() - start
        err_text = err.decode("utf-8", "replace")
        if want_net and self.confine == "harness":
            found = _NOT_ISOLATED.search(err_text)
            if found:
                self.network = found.group(1)
            elif self.network is None and proc.returncode == 0:
                self.network = "isolated"
        notes = self._notes()
        return classify(out, err_text, proc.returncode, timed_out, seconds, notes, batch_ops=None if digest else n_ops)

    def _shared_net(self, path: str) -> tuple[int, ...]:
        """The executor's network namespace as open descriptors (net, and user when it has its
        own user namespace), made on the first run by `program --no-net --net-holder`: the
        harness leaves the network exactly as a run does (in its setting up, so with the sandbox
        before any line of the revision), says so, and waits while its namespaces are opened
        here. () when that fails (a program that is not our harness, no namespaces): each run
        then makes its own, as before.
        """
        if self._net_fds is None:
            with self._net_lock:
                if self._net_fds is None:
                    self._net_fds = _hold_network(path, self._base, self.sandbox)
        return self._net_fds

    def _batch_facts(self, batch_text: str | bytes) -> tuple[bytes, list[int], int]:
        """The batch as bytes, its segments' operation counts and its operation count.

        Remembered for the last few batch texts: difftest runs the same joined batch (a
        megabyte) on every revision, and counting its lines each time added up.
        """
        got = self._facts.get(batch_text)
        if got is None:
            data = batch_text.encode() if isinstance(batch_text, str) else batch_text
            got = (data, segment_ops(data), _count_ops(data))
            with self._facts_lock:  # runs come from several threads
                if len(self._facts) >= 16:
                    self._facts.pop(next(iter(self._facts)))
                self._facts[batch_text] = got
        return got

    def _take_workdir(self) -> str:
        """An empty working directory of this executor's, not in use by another run."""
        try:
            return self._free_dirs.pop()
        except IndexError:
            return tempfile.mkdtemp(dir=self._base)

    def _give_back_workdir(self, path: str) -> None:
        """Kept for the next run when the run left it empty (creating and removing a directory
        per run cost more than a small run); otherwise removed with what the run left in it."""
        try:
            empty = not os.listdir(path)
        except OSError:
            empty = False
        if empty:
            self._free_dirs.append(path)
        else:
            shutil.rmtree(path, ignore_errors=True)

    def _sanitized(self, path: str) -> bool:
        """Is this a sanitizer build (`program --info` says so)? Asked once per program."""
        if path not in self._sanitize_seen:
            try:
                out = subprocess.run([path, "--info"], capture_output=True, text=True, env={}, cwd=self._base, timeout=30).stdout
            except (OSError, subprocess.TimeoutExpired):
                out = ""
            self._sanitize_seen[path] = "sanitize 1" in out.splitlines()
        return self._sanitize_seen[path]

    def _notes(self) -> tuple[str, ...]:
        if self.network in (None, "isolated", "not requested"):
            return ()
        return (f"network not isolated: {self.network}",)

    def _command(self, path: str, limits: Limits, sanitize: bool, want_net: bool, n_ops: int = 0, segments: int = 1):
        """argv and preexec hook; `n_ops` is the longest segment's operations, `segments` their number."""
        if self.confine == "harness":
            argv = [path, "--cpu", str(int(limits.cpu_seconds)), "--as", str(int(limits.memory_mb)),
                    "--fsize", str(int(limits.fsize_mb) << 20)]
            slower = 4 if sanitize else 1
            if limits.cpu_ms_base:  # SIGPROF budget, see Limits
                budget = limits.cpu_ms_base + limits.cpu_ms_per_op * n_ops
                argv += ["--cpu-ms", str(int(budget * slower))]
            if limits.stall_ms and not sanitize:  # the watchdog, see Limits (a sanitizer build ignores it)
                argv += ["--stall-ms", str(max(1, int(limits.stall_ms)))]
            if limits.step_limit:  # only a program with counted blocks reads it (build_steps.py)
                argv += ["--step-limit", str(int(limits.step_limit))]
            if segments > 1:  # both CPU budgets re-armed at each `w`
                argv += ["--segments", str(segments)]
            if want_net:
                argv.append("--no-net")
            if not self.sandbox:
                argv.append(_sandbox.NO_SANDBOX_FLAG)
            return argv, None
        # The classic way has no per-segment re-arming: RLIMIT_CPU covers every segment.
        if segments > 1:
            limits = replace(limits, cpu_seconds=int(limits.cpu_seconds) * segments)
        return [*self._wrapper, path, *([] if self.sandbox else [_sandbox.NO_SANDBOX_FLAG])], _preexec_limits(limits, sanitize)


def _hold_network(path: str, cwd: str, sandbox: bool, timeout: float = 10.0) -> tuple[int, ...]:
    """Open the network namespace (and its user namespace, if not ours) of a holder run; () on any failure."""
    argv = [path, "--no-net", "--net-holder"] + ([] if sandbox else [_sandbox.NO_SANDBOX_FLAG])
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env={}, cwd=cwd)
    except OSError:
        return ()
    fds: list[int] = []
    try:
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        if ready and proc.stdout.readline() == b"net-holder isolated\n":
            fds.append(os.open(f"/proc/{proc.pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC))
            own = os.stat("/proc/self/ns/user").st_ino
            if os.stat(f"/proc/{proc.pid}/ns/user").st_ino != own:  # not root: its user namespace too
                fds.append(os.open(f"/proc/{proc.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC))
    except OSError:
        for fd in fds:
            os.close(fd)
        fds = []
    finally:
        proc.stdin.close()  # the holder's cue to exit; the descriptors keep the namespaces
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            proc.wait()
        proc.stdout.close()
    return tuple(fds)


def _preexec_limits(limits: Limits, sanitize: bool):
    """The classic way: limits set in the child between fork and exec."""
    cpu = int(limits.cpu_seconds)
    memory = None if sanitize else int(limits.memory_mb) << 20
    fsize = int(limits.fsize_mb) << 20

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply


def _count_ops(batch: bytes) -> int:
    """Operations in a batch: its lines after the header (see docs/protocol.md)."""
    lines = batch.count(b"\n") + (0 if batch.endswith(b"\n") or not batch else 1)
    return max(0, lines - 1)


def segment_ops(batch: bytes) -> list[int]:
    """Operations in each segment of a batch: its ops split at the `w` lines, which belong to none.

    A batch without `w` is one segment of all its operations.
    """
    marks = []
    at = batch.find(b"\nw\n")
    while at >= 0:
        marks.append(at)
        at = batch.find(b"\nw\n", at + 2)
    if batch.endswith(b"\nw"):
        marks.append(len(batch) - 2)
    if not marks:
        return [_count_ops(batch)]
    sizes, line, index, seen = [], 0, -1, 0  # `line`: the op where the current segment starts
    for at in marks:
        index += batch.count(b"\n", seen, at + 1)  # the w's op index (line 0 is the header)
        seen = at + 1
        sizes.append(index - line)
        line = index + 1
    sizes.append(_count_ops(batch) - line)
    return sizes


def run_program(
    program: str | os.PathLike | Program,
    batch_text: str | bytes,
    timeout: float = Limits.timeout,
    memory_mb: int = Limits.memory_mb,
    cpu_seconds: int | None = None,
    executor: Executor | None = None,
) -> RunResult:
    """One run with a throwaway Executor (pass `executor=` to reuse its network probe).

    `cpu_seconds` defaults to a little under the timeout, so the CPU limit fires first.
    """
    if cpu_seconds is None:
        cpu_seconds = max(1, int(timeout * 0.8))
    if executor is not None:
        return executor.run(program, batch_text, timeout=timeout, memory_mb=memory_mb, cpu_seconds=cpu_seconds)
    with Executor(Limits(timeout=timeout, cpu_seconds=cpu_seconds, memory_mb=memory_mb)) as ex:
        return ex.run(program, batch_text)
