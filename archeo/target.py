"""Targets: what file to study, under which names, in which repository.

A target lives in `corpus/<name>.toml` (shipped with archeo) or in any TOML file a user
points at, so studying another file needs no code. `target_from_paths` builds one from
command-line options (`--path`, `--header`) for a one-off study.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from pathlib import Path

from .errors import ArcheoError
from .records import CompileSettings, Expectation, Target

DEFAULT_TARGET = "xen-rbtree"


def corpus_dir() -> Path:
    """The corpus shipped beside the package (a source checkout or an editable install)."""
    return Path(__file__).resolve().parent.parent / "corpus"


def available_targets() -> list[str]:
    return sorted(p.stem for p in corpus_dir().glob("*.toml"))


def load_target(name_or_path: str = DEFAULT_TARGET) -> Target:
    """Load a target by corpus name (`xen-rbtree`) or by the path of a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        path = corpus_dir() / f"{name_or_path}.toml"
        if not path.exists():
            known = ", ".join(available_targets()) or "none"
            raise ArcheoError(
                f"unknown target '{name_or_path}': known targets are {known}; "
                f"or pass the path of a target .toml file"
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArcheoError(f"target file {path} does not exist: check the path") from None
    except UnicodeDecodeError:
        raise ArcheoError(f"target file {path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as exc:
        raise ArcheoError(f"cannot read target file {path} ({exc.strerror}): give the path of a .toml file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ArcheoError(f"target file {path} is not valid TOML ({exc}): fix the file") from None
    return target_from_dict(data, source=str(path))


def target_from_dict(data: dict, source: str = "<dict>") -> Target:
    """Validate a parsed target table; every problem names the file and the key."""

    def need(key: str, kind: type):
        if key not in data:
            raise ArcheoError(f"target file {source} lacks '{key}': add it")
        value = data[key]
        if not isinstance(value, kind):
            raise ArcheoError(f"target file {source}: '{key}' must be a {kind.__name__}")
        return value

    def string_list(key: str, required: bool = False) -> tuple[str, ...]:
        value = need(key, list) if required else data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
            raise ArcheoError(f"target file {source}: '{key}' must be a list of strings, e.g. {key} = [\"a/b.c\"]")
        return tuple(value)

    name = need("name", str)
    paths = tuple(_clean_path(p) for p in string_list("paths", required=True))
    if not paths:
        raise ArcheoError(f"target file {source}: 'paths' must list at least one file path")
    headers = tuple(_clean_path(p) for p in string_list("header_paths"))
    urls = string_list("urls")
    expectations = []
    for i, exp in enumerate(data.get("expectations", ())):
        try:
            expectations.append(
                Expectation(
                    commit=str(exp["commit"]),
                    date=str(exp["date"]),
                    added=int(exp["added"]),
                    removed=int(exp["removed"]),
                    note=str(exp.get("note", "")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArcheoError(
                f"target file {source}: expectation {i + 1} needs commit, date, added, removed ({exc})"
            ) from None
    return Target(
        name=name,
        paths=paths,
        header_paths=headers,
        urls=urls,
        subject=str(data.get("subject", data.get("reference", "rbtree"))),
        release_pattern=str(data.get("release_pattern", "")),
        description=str(data.get("description", "")),
        expectations=tuple(expectations),
        source=source,
        compile=compile_settings(
            str(data.get("platform", "")),
            string_list("include_dirs"),
            string_list("defines"),
            str(data.get("std", "")),
            source=f"target file {source}",
        ),
    )


def compile_settings(platform: str = "", include_dirs=(), defines=(), std: str = "", source: str = "") -> CompileSettings:
    """Checked settings: a known platform, include directories inside the repository,
    defines that are C identifiers (with an optional value), a plain -std value."""
    from .platforms import PLATFORMS

    where = f"{source}: " if source else ""
    if platform and platform not in PLATFORMS:
        raise ArcheoError(f"{where}unknown platform {platform!r}: use one of {', '.join(sorted(PLATFORMS))} (or none to let archeo choose)")
    dirs = []
    for d in include_dirs:
        clean = posixpath.normpath(d.strip())
        if clean.startswith(("/", "../")) or clean == "..":
            raise ArcheoError(f"{where}include directory {d!r} is not inside the repository: give it relative to the top ('.' is the top)")
        dirs.append(clean)
    for d in defines:
        if not re.fullmatch(r"[A-Za-z_]\w*(=[^\s]*)?", d):
            raise ArcheoError(f"{where}define {d!r} is not NAME or NAME=VALUE")
    if std and not re.fullmatch(r"[a-z]+[0-9x]+", std):
        raise ArcheoError(f"{where}std {std!r} is not a C standard such as gnu99 or c11")
    return CompileSettings(platform, tuple(dirs), tuple(defines), std)


def _clean_path(path: str) -> str:
    """A path as git spells it inside the repository: `./a//b.c` is `a/b.c`."""
    clean = posixpath.normpath(path.strip())
    if clean.startswith(("/", "../")) or clean in (".", ".."):
        raise ArcheoError(f"path {path!r} is not inside the repository: give it relative to the repository's top")
    return clean


def target_from_paths(
    paths: list[str], headers: list[str] | None = None, name: str | None = None, compile: CompileSettings | None = None
) -> Target:
    """A one-off target from `--path`/`--header` options (and `--platform`, `--include-dir`, ...)."""
    if not paths:
        raise ArcheoError("--path needs at least one file path inside the repository")
    paths = [_clean_path(p) for p in paths]
    return Target(
        name=name or Path(paths[-1]).stem,
        paths=tuple(paths),
        header_paths=tuple(_clean_path(h) for h in headers or ()),
        source="command line",
        compile=compile or CompileSettings(),
    )
