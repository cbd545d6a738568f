"""The Python side of the sandbox every program runs in (archeo/shim/sandbox_rt.c).

Three things execute.py needs and nothing else does:

- `probe(program)`: which layers a program gets on this machine (`landlock+seccomp`,
  `mountns+seccomp`, `none` with --no-sandbox), asked once per executor. The answer is
  printed by the program's preinit code, before any of the revision's code has run, so the
  revision cannot fake it. A machine that cannot install the seccomp filter gets one
  `ArcheoError` line naming `--no-sandbox`, the flag that accepts the risk.
- `denied_call(stderr)`: the name of the system call the filter stopped, from the program's
  `archeo-sandbox: denied system call <nr>` line, for crash kind `sandbox: <name>`.
- `syscall_name(nr)`: numbers to names, from the C library's own <sys/syscall.h> (asked of
  the compiler once), so the names are the machine's, not a table copied here.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache

from .errors import ArcheoError

EXIT_NO_SANDBOX = 4  # sandbox_rt.c: the machine cannot confine the program
NO_SANDBOX_FLAG = "--no-sandbox"
_DENIED = re.compile(r"archeo-sandbox: denied system call (\d+)")
_REFUSED = re.compile(r"archeo-sandbox: cannot confine the program: .*")


@lru_cache(maxsize=2)
def _syscall_table(cc: str = "gcc") -> dict[int, str]:
    try:
        out = subprocess.run([cc, "-E", "-dM", "-x", "c", "-"], input="#include <sys/syscall.h>\n",
                             capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {int(nr): name for name, nr in re.findall(r"^#define __NR_(\w+) (\d+)$", out, re.MULTILINE)}


def syscall_name(nr: int) -> str:
    return _syscall_table().get(nr, f"syscall-{nr}")


def denied_call(stderr: str) -> str | None:
    """The system call the sandbox stopped, named, or None."""
    found = _DENIED.search(stderr)
    return syscall_name(int(found.group(1))) if found else None


def raise_if_refused(returncode: int | None, stderr: str) -> None:
    """One ArcheoError line when a program said the machine cannot confine it."""
    refused = _REFUSED.search(stderr)
    if returncode == EXIT_NO_SANDBOX and refused:
        raise ArcheoError(f"{refused.group(0)}; pass {NO_SANDBOX_FLAG} to run untrusted code unconfined")


def probe(program: str, cwd: str, sandbox: bool = True) -> str:
    """The layers in force for `program` here ("landlock+seccomp", ...; "none" unsandboxed;
    "unknown" from a program that does not answer, i.e. one archeo did not build).

    Raises ArcheoError (one line) when the sandbox is asked for and cannot be installed.
    """
    argv = [program, "--sandbox-probe"] + ([] if sandbox else [NO_SANDBOX_FLAG])
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env={}, cwd=cwd, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ArcheoError(f"cannot start {program} to ask for its sandbox ({exc})") from None
    raise_if_refused(proc.returncode, proc.stderr)
    found = re.search(r"^sandbox (\S+)$", proc.stdout, re.MULTILINE)
    return found.group(1) if proc.returncode == 0 and found else "unknown"  # not a program archeo built
