"""Mine every revision of a target file, with its companion header, from git.

One `git log` over every path the file and its header ever had (renames detected with
`-M`, raw blob ids and line counts in the same pass), then one `git cat-file --batch`
for all the texts. Two git processes in all, whatever the length of the history: that is
what keeps mining close to the plain git command line (see bench/bench_mine.py).

    >>> from archeo import mine
    >>> for rev in mine("xen-rbtree", repo="/path/to/xen.git"):
    ...     print(rev.short, rev.date[:10], rev.status, rev.path)
"""

from __future__ import annotations

import os
import sys
import types
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import git

from .errors import ArcheoError
from .records import Expectation, Revision, Target
from .target import load_target

_RECORD = "\x00"
_FIELD = "\x1f"
_LOG_FORMAT = "%x00%H%x1f%P%x1f%aI%x1f%an%x1f%s"  # git writes the separators itself
_NULL_SHA = "0" * 40


@dataclass(frozen=True)
class _Pair:
    """One file pair of a commit's raw diff: what happened to which path."""

    status: str  # A M D R (C, T folded into M)
    old_path: str | None
    new_path: str | None
    new_blob: str | None
    added: int
    removed: int


@dataclass(frozen=True)
class ExpectationCheck:
    expectation: Expectation
    ok: bool
    message: str


# ---------------------------------------------------------------- repository access
def open_repo(repo: str | os.PathLike | None, target: Target, cache_dir: str | os.PathLike | None = None) -> git.Repo:
    """Open a local repository (bare or not), or clone a URL once into the user cache."""
    if repo is None:
        if not target.urls:
            raise ArcheoError(f"target '{target.name}' names no repository URL: pass --repo PATH")
        return _clone_cached(target.urls[-1], target, cache_dir)
    text = str(repo)
    if re.match(r"^[a-z][a-z0-9+.-]*://|^git@", text):
        return _clone_cached(text, target, cache_dir)
    path = Path(text).expanduser()
    if not path.exists():
        raise ArcheoError(f"repository {path} does not exist: pass --repo with the path of a local git clone")
    try:
        repository = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ArcheoError(f"{path} is not a git repository: pass --repo with the path of a local git clone") from None
    # A bare directory without a `config` file (as some mirrors lay it out) is not seen as
    # bare by gitpython, which then runs git one level up; naming the git dir fixes both cases.
    repository.git.update_environment(GIT_DIR=str(Path(repository.git_dir).resolve()))
    _refuse_shallow(repository, path)
    return repository


def _refuse_shallow(repository: git.Repo, path) -> None:
    if Path(repository.git_dir, "shallow").exists():
        raise ArcheoError(
            f"{path} is a shallow clone, so its history is cut: run "
            f"`git -C {path} fetch --unshallow` (or clone without --depth) and try again"
        )


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/archeo` or `~/.cache/archeo`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "archeo"


def _clone_cached(url: str, target: Target, cache_dir) -> git.Repo:
    """A bare, partial (`--filter=blob:none`) clone, made once and then reused."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", url.split("://", 1)[-1]).strip("_")
    dest = Path(cache_dir or default_cache_dir()) / "repos" / f"{slug}.git"
    if not (dest / "HEAD").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        # A private directory per attempt: an interrupted clone leaves only its own debris, and
        # two runs cloning at once do not trample each other; the first to finish wins.
        partial = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            proc = subprocess.run(
                ["git", "clone", "--quiet", "--bare", "--filter=blob:none", url, str(partial)],
                capture_output=True,
                text=True,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            )
            if proc.returncode != 0:
                reason = (proc.stderr.strip().splitlines() or ["git clone failed"])[-1]
                raise ArcheoError(f"cannot clone {url} ({reason}): pass --repo with the path of a local clone")
            try:
                partial.rename(dest)
            except OSError:
                if not (dest / "HEAD").exists():
                    raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return git.Repo(dest)


# ---------------------------------------------------------------- the history
def mine(
    target: Target | str = "xen-rbtree",
    repo: str | os.PathLike | git.Repo | None = None,
    rev: str = "HEAD",
    cache_dir: str | os.PathLike | None = None,
) -> list[Revision]:
    """Every commit that added, changed, moved or removed the target or its header, oldest first."""
    if isinstance(target, str):
        target = load_target(target)
    if not rev or rev.startswith("-"):
        raise ArcheoError(f"--rev {rev!r} is not a revision: give a commit, branch or tag")
    repository = repo if isinstance(repo, git.Repo) else open_repo(repo, target, cache_dir)
    file_paths = set(target.paths)
    header_paths = set(target.header_paths)
    commits = _log(repository, rev, sorted(file_paths | header_paths))
    if not commits:
        raise ArcheoError(
            f"none of {', '.join(target.paths)} appears in the history of {repository.git_dir} at {rev}: "
            f"check the target's paths (--path) or the repository (--repo)"
        )
    wanted = []  # (commit meta, file pair or None, header-touched?)
    for meta, pairs in commits:
        file_pair = _file_pair([p for p in pairs if (p.new_path in file_paths or p.old_path in file_paths)], file_paths)
        header_touched = any(p.new_path in header_paths or p.old_path in header_paths for p in pairs)
        wanted.append((meta, file_pair, header_touched))

    # One cat-file batch for every text we need: the file by blob id, the header by commit:path.
    requests: list[str] = []
    for meta, file_pair, _ in wanted:
        sha = meta[0]
        requests.extend(f"{sha}:{p}" for p in sorted(file_paths))
        requests.extend(f"{sha}:{h}" for h in target.header_paths)
    blobs = _cat_file_batch(repository, requests)

    revisions: list[Revision] = []
    for meta, file_pair, header_touched in wanted:
        sha, date, author, subject, parents = meta
        texts = {p: blobs.get(f"{sha}:{p}") for p in file_paths}
        live = [p for p in target.paths if texts[p] is not None]
        if file_pair is None and not live:
            continue  # the header changed while the file was absent: nothing to study
        if file_pair is not None:
            status = {"A": "added", "D": "deleted", "R": "renamed"}.get(file_pair.status, "modified")
            path = file_pair.new_path if status != "deleted" else file_pair.old_path
            old_path = file_pair.old_path if status == "renamed" else None
            added, removed = file_pair.added, file_pair.removed
        else:
            status, path, old_path, added, removed = "modified", live[-1], None, 0, 0
        text = texts.get(path) if status != "deleted" else None
        header_path = header_text = None
        if text is not None:
            for h in reversed(target.header_paths):  # newest name first
                h_text = blobs.get(f"{sha}:{h}")
                if h_text is not None:
                    header_path, header_text = h, h_text
                    break
        touched = tuple(t for t, on in (("file", file_pair is not None), ("header", header_touched)) if on)
        revisions.append(
            Revision(
                commit=sha,
                date=date,
                author=author,
                subject=subject,
                status=status,
                path=path,
                header_path=header_path,
                added=added,
                removed=removed,
                text=text,
                header_text=header_text,
                old_path=old_path,
                touched=touched,
                parents=parents,
            )
        )
    # Parents that were skipped above (header-only commits while the file was absent) are
    # replaced by their own parents, so every parent named is a listed revision.
    listed = {r.commit for r in revisions}
    skipped = {meta[0]: meta[4] for meta, _, _ in wanted if meta[0] not in listed}

    def resolve(parent: str, seen=()) -> tuple[str, ...]:
        if parent in listed or parent not in skipped or parent in seen:
            return (parent,) if parent in listed else ()
        return tuple(p for q in skipped[parent] for p in resolve(q, (*seen, parent)))

    return [replace(r, parents=tuple(dict.fromkeys(p for q in r.parents for p in resolve(q)))) for r in revisions]


def _log(repository: git.Repo, rev: str, paths: list[str]) -> list[tuple[tuple[str, str, str, str], list[_Pair]]]:
    """`git log` oldest first with raw pairs and line counts, renames detected."""
    try:
        out = repository.git(c="core.quotePath=false").log(
            rev,
            "--reverse",
            "--topo-order",
            f"--format={_LOG_FORMAT}",
            "--raw",
            "--numstat",
            "--no-abbrev",
            "--parents",  # rewrite parents to the nearest commits that touch the paths
            "-M",
            "--",
            *paths,
        )
    except git.GitCommandError as exc:
        lines = [l.strip() for l in str(exc.stderr).splitlines() if l.strip()]
        reason = (lines or ["git log failed"])[-1].removeprefix("stderr:").strip().strip("'").removeprefix("fatal:").strip()
        raise ArcheoError(f"git log failed in {repository.git_dir} ({reason}): check --repo and --rev") from None
    commits = []
    for record in out.split(_RECORD)[1:]:
        head, _, body = record.partition("\n")
        sha, parents, date, author, subject = head.split(_FIELD, 4)
        raws, stats = [], []
        for line in body.splitlines():
            if line.startswith(":"):
                raws.append(line)
            elif line.strip():
                stats.append(line)
        pairs = []
        for i, raw in enumerate(raws):
            meta, *names = raw.split("\t")
            fields = meta.split()
            status = fields[4][0]
            added = removed = 0
            if i < len(stats):
                a, r = stats[i].split("\t")[:2]
                added, removed = (int(a) if a.isdigit() else 0), (int(r) if r.isdigit() else 0)
            old = names[0] if status in "DMRCT" else None
            new = names[-1] if status in "AMRCT" else None
            if status == "C":
                old = None
            pairs.append(_Pair(status if status in "ADR" else "M", old, new, None if fields[3] == _NULL_SHA else fields[3], added, removed))
        commits.append(((sha, date, author, subject, tuple(parents.split())), pairs))
    return commits


def _file_pair(pairs: list[_Pair], file_paths: set[str]) -> _Pair | None:
    """Fold a commit's pairs on the file's names into one event (a delete + add is a move)."""
    if not pairs:
        return None
    if len(pairs) == 1:
        return pairs[0]
    adds = [p for p in pairs if p.status == "A"]
    dels = [p for p in pairs if p.status == "D"]
    if adds and dels:  # a move git did not pair up
        return _Pair("R", dels[0].old_path, adds[0].new_path, adds[0].new_blob, adds[0].added, dels[0].removed)
    return next((p for p in pairs if p.status != "D"), pairs[0])


def _cat_file_batch(repository: git.Repo, names: list[str]) -> dict[str, str | None]:
    """Texts for many `<commit>:<path>` names through one `git cat-file --batch`."""
    if not names:
        return {}
    proc = repository.git.cat_file("--batch", as_process=True, istream=subprocess.PIPE)
    out, err = proc.proc.communicate(("\n".join(names) + "\n").encode())
    result: dict[str, str | None] = {}
    pos = 0
    for name in names:
        end = out.find(b"\n", pos)
        if end < 0:  # git stopped answering: typically a partial clone that cannot fetch a blob
            reason = ((err or b"").decode(errors="replace").strip().splitlines() or ["git cat-file stopped"])[-1]
            raise ArcheoError(
                f"cannot read {name} from {repository.git_dir} ({reason}): a partial clone needs the network "
                f"to fetch file contents; pass --repo with a full local clone"
            )
        header = out[pos:end].decode(errors="replace")
        pos = end + 1
        if header.endswith(" missing") or header.endswith(" ambiguous"):
            result[name] = None
            continue
        _, kind, size = header.rsplit(" ", 2)
        size = int(size)
        data = out[pos : pos + size]
        pos += size + 1
        result[name] = data.decode("utf-8", errors="replace") if kind == "blob" else None
    return result


# ---------------------------------------------------------------- expectations
def check_expectations(target: Target, revisions: list[Revision]) -> list[ExpectationCheck]:
    """Compare the mined history with what the target says is known about it."""
    checks = []
    for exp in target.expectations:
        rev = next((r for r in revisions if r.commit.startswith(exp.commit)), None)
        if rev is None:
            checks.append(ExpectationCheck(exp, False, f"{exp.commit} ({exp.date}) is not in the mined history"))
            continue
        problems = []
        if rev.date[:10] != exp.date:
            problems.append(f"date {rev.date[:10]}, expected {exp.date}")
        if (rev.added, rev.removed) != (exp.added, exp.removed):
            problems.append(f"+{rev.added}/-{rev.removed}, expected +{exp.added}/-{exp.removed}")
        message = "; ".join(problems) or f"confirmed: {exp.date} +{exp.added}/-{exp.removed} {exp.note}".strip()
        checks.append(ExpectationCheck(exp, not problems, f"{exp.commit}: {message}"))
    return checks


def revisions_to_json(target: Target, revisions: list[Revision]) -> dict:
    """The `archeo mine --json` document (texts stay out; they come from the Python API)."""
    return {
        "target": target.name,
        "revisions": [
            {
                "commit": r.commit,
                "date": r.date,
                "author": r.author,
                "subject": r.subject,
                "status": r.status,
                "path": r.path,
                "header_path": r.header_path,
                "added": r.added,
                "removed": r.removed,
                "touched": list(r.touched),
            }
            for r in revisions
        ],
    }


class _CallableModule(types.ModuleType):
    """`from archeo import mine; mine(...)` must work whether or not this submodule was imported.

    Importing `archeo.mine` binds the package attribute `mine` to this module, shadowing the
    function of the same name; making the module callable keeps the notebook API the same
    either way.
    """

    def __call__(self, *args, **kwargs) -> list[Revision]:
        return mine(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
