"""A content-addressed cache of stage results, safe against interruption and tampering.

Each entry is one file, `<dir>/<kind>/<key[:2]>/<key>.pkl`: a sha256 of the payload, a newline,
then the pickled payload. Written to a temporary file and renamed into place, so a run stopped
half-way leaves either the whole entry or nothing. An entry whose checksum does not match (a
cache corrupted by hand or by a full disk) is deleted and treated as missing, so the stage
simply runs again. The cache is an optimisation, never a source of truth: keys hash every input.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path


def digest(*parts) -> str:
    """A stable key from strings, bytes and numbers (and lists of them)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, (list, tuple)):
            h.update(digest(*part).encode())
        elif isinstance(part, bytes):
            h.update(part)
        else:
            h.update(str(part).encode())
        h.update(b"\0")
    return h.hexdigest()


class Cache:
    def __init__(self, root: str | os.PathLike | None):
        self.root = Path(root) if root else None
        self.rebuilt: list[str] = []  # entries found corrupt this run, for the user's information
        self.notes: list[str] = []  # problems that cost speed, not results (an unwritable cache)

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.pkl"

    def get(self, kind: str, key: str):
        if self.root is None:
            return None
        path = self._path(kind, key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        check, _, payload = raw.partition(b"\n")
        try:
            if hashlib.sha256(payload).hexdigest().encode() != check:
                raise ValueError("checksum mismatch")
            return pickle.loads(payload)
        except Exception:  # noqa: BLE001 - any unreadable entry is rebuilt, whatever broke it
            self.rebuilt.append(f"{kind}/{key[:12]}")
            path.unlink(missing_ok=True)
            return None

    def put(self, kind: str, key: str, value) -> None:
        if self.root is None:
            return
        path = self._path(kind, key)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as exc:
            self._unwritable(exc)
            return
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
            os.replace(tmp, path)
        except OSError as exc:  # a full disk: the run goes on uncached
            Path(tmp).unlink(missing_ok=True)
            self._unwritable(exc)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _unwritable(self, exc: OSError) -> None:
        note = f"cache {self.root} is not writable ({exc.strerror or exc}); results were not cached"
        if note not in self.notes:
            self.notes.append(note)
