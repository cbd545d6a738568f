"""The build stage's cache: finished programs, their index by code identity, shared objects.

Split from build.py, which decides *what* is compiled; this module only keeps the results:

- `<cache>/programs/<key>/`: one finished build (program, program.json, the generated config,
  the compiler's log on failure), staged aside and renamed into place, so an interrupted build
  never leaves half a program;
- `<cache>/program-codes/<code>`: the key of a program built from a given code identity
  (what the compiler was given), so a revision whose code another revision already had is
  copied rather than compiled again;
- `<cache>/objects/`: objects shared by many programs (runtimes, harness engines), each
  named by a digest of everything that went into it and written aside, then renamed.

A `Claims` table makes threads of one build wait for each other rather than compile the same
code twice at once. The cache is an optimisation only: delete it and the same programs come back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .records import Program
from .sandbox import NO_SANDBOX_FLAG, denied_call, raise_if_refused


def store(final: Path, info: dict, program: Path | None, config: str) -> None:
    """Put a finished build into the cache atomically: staged aside, then renamed into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{final.name[:16]}-", dir=final.parent))
    try:
        if program is not None:
            shutil.copy2(program, stage / "program")
        (stage / "archeo_config.h").write_text(config)
        for name, source in (info.pop("_files", None) or {}).items():  # kept beside the program (build_steps.py)
            shutil.copy2(source, stage / name)
        log = info.pop("log", None)
        if log:
            (stage / "build.log").write_text(log)
        (stage / "program.json").write_text(json.dumps(info, indent=1) + "\n")
        try:
            os.rename(stage, final)
        except OSError:
            if not (final / "program.json").exists():  # not a lost race: a real failure
                raise
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def load(final: Path, commit: str, key: str, sanitize: bool) -> Program | None:
    """The cached Program at `final`, or None when there is none (or it is incomplete)."""
    try:
        info = json.loads((final / "program.json").read_text())
    except (OSError, ValueError):
        return None
    path = final / "program"
    if info.get("ok") and not path.exists():
        return None
    return Program(
        commit=commit,
        path=str(path) if info.get("ok") else None,
        key=key,
        ops=tuple(info.get("ops") or ()),
        node_size=info.get("node_size"),
        sanitize=sanitize,
        error=info.get("error"),
        notes=tuple(info.get("notes") or ()),
        code=info.get("code") or "",
    )


def built_with(cache_dir: Path, code: str) -> tuple[Path, dict] | None:
    """The program an earlier build made from the same code, with its program.json, if any."""
    if not code:
        return None
    try:
        key = (cache_dir / "program-codes" / code).read_text().strip()
    except OSError:
        return None
    entry = cache_dir / "programs" / key
    if not re.fullmatch(r"[0-9a-f]{64}", key) or not (entry / "program").exists():
        return None
    try:
        return entry / "program", json.loads((entry / "program.json").read_text())
    except (OSError, ValueError):
        return None


def remember(cache_dir: Path, code: str, key: str) -> None:
    """Index a built program by its code identity, for `built_with` (written aside, renamed)."""
    index = cache_dir / "program-codes"
    index.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=".by-code-", dir=index)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    os.replace(partial, index / code)


def put_object(made: Path, path: Path) -> None:
    """Copy a freshly made object into the shared objects at `path` (aside, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.stem[:16]}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        shutil.copy2(made, partial)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


class Claims:
    """Who is building what right now: the second thread to ask for a name waits until the
    first is done (and then finds its result in the cache) instead of doing the same work."""

    def __init__(self):
        self._lock = threading.Lock()
        self._busy: dict[str, threading.Event] = {}

    @contextmanager
    def claim(self, name: str) -> Iterator[None]:
        if not name:
            yield
            return
        while True:
            with self._lock:
                event = self._busy.get(name)
                if event is None:
                    event = self._busy[name] = threading.Event()
                    break
            event.wait()
        try:
            yield
        finally:
            with self._lock:
                del self._busy[name]
            event.set()


def program_info(path: str | os.PathLike, sandbox: bool = True) -> dict:
    """`program --info` as a dict (node_size, ops, commit, sanitize), run confined (its
    constructors are the revision's code) in an empty directory of its own."""
    argv = [str(path), "--info"] + ([] if sandbox else [NO_SANDBOX_FLAG])
    try:
        with tempfile.TemporaryDirectory(prefix="archeo-info-") as cwd:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, env={}, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)}
    raise_if_refused(proc.returncode, proc.stderr)
    denied = denied_call(proc.stderr) if proc.returncode == -signal.SIGSYS else None
    if denied:  # a constructor of the revision's, stopped before any operation
        return {"error": f"sandbox: {denied} (before main: the program's constructors)"}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
