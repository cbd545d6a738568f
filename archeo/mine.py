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

from . import schemas
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
                raise ArcheoError(
                    f"cannot clone {url} ({reason}): pass --repo with the path of a local clone, "
                    "or run `archeo demo` (make demo) for a full report on a history built here, offline"
                )
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
    own = set(target.paths) | set(target.header_paths)
    extra: set[str] = set()
    # The closure's files are only known once the revisions are: mine, look at what they
    # include, and mine again over the new files too, until nothing new is reached.
    for _ in range(_MAX_CLOSURE_PASSES):
        revisions = _mine_paths(repository, rev, target, sorted(own | extra))
        reached = {p for r in revisions for p in r.closure} - own
        if reached <= extra:
            break
        extra |= reached
    return revisions


_MAX_CLOSURE_PASSES = 4


def _mine_paths(repository: git.Repo, rev: str, target: Target, paths: list[str]) -> list[Revision]:
    """One pass of `mine` over the file's and header's names and the closure files known so far."""
    file_paths = set(target.paths)
    header_paths = set(target.header_paths)
    commits = _log(repository, rev, paths)
    merged = _merge_changes(repository, [meta for meta, pairs in commits if not pairs], paths)
    wanted = []  # (commit meta, file pair or None, header-touched?, every path touched)
    same_as: dict[str, tuple[str, ...]] = {}  # merges with nothing of their own -> the parent they equal
    for meta, pairs in commits:
        if meta[0] in merged:
            pairs = merged[meta[0]]
            if isinstance(pairs, int):  # its result is one parent's: it stands for that parent
                same_as[meta[0]] = meta[4][pairs : pairs + 1] if len(meta[4]) > pairs else meta[4]
                continue
        file_pair = _file_pair([p for p in pairs if (p.new_path in file_paths or p.old_path in file_paths)], file_paths)
        header_touched = any(p.new_path in header_paths or p.old_path in header_paths for p in pairs)
        touched_paths = {q for p in pairs for q in (p.old_path, p.new_path) if q}
        wanted.append((meta, file_pair, header_touched, touched_paths))
    if not wanted:
        raise ArcheoError(
            f"none of {', '.join(target.paths)} appears in the history of {repository.git_dir} at {rev}: "
            f"check the target's paths (--path) or the repository (--repo)"
        )

    # One cat-file batch for every text we need: the file by blob id, the header by commit:path.
    requests: list[str] = []
    for meta, *_ in wanted:
        sha = meta[0]
        requests.extend(f"{sha}:{p}" for p in sorted(file_paths))
        requests.extend(f"{sha}:{h}" for h in target.header_paths)
    blobs = _cat_file_batch(repository, requests)

    found = []
    for meta, file_pair, header_touched, touched_paths in wanted:
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
        found.append(
            (
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
                    compile=target.compile,
                ),
                touched_paths,
            )
        )
    found = _with_closures(repository, found)
    revisions = [r for r in found if r.touched]  # a commit on closure files it does not include is not one
    # Parents that were skipped above (merges with nothing of their own, header-only commits
    # while the file was absent, commits on files outside the closure) are replaced by their
    # own parents, so every parent named is a listed revision.
    listed = {r.commit for r in revisions}
    through: dict[str, tuple[str, ...]] = {}  # a skipped commit -> the listed revisions it stands for
    for meta, _ in commits:  # oldest first (topological), so parents are resolved before children
        if meta[0] not in listed:
            parents = same_as.get(meta[0], meta[4])
            through[meta[0]] = tuple(dict.fromkeys(q for p in parents for q in ((p,) if p in listed else through.get(p, ()))))

    def resolve(parent: str) -> tuple[str, ...]:
        return (parent,) if parent in listed else through.get(parent, ())

    return [replace(r, parents=tuple(dict.fromkeys(p for q in r.parents for p in resolve(q)))) for r in revisions]


def _with_closures(repository: git.Repo, found: list[tuple[Revision, set[str]]]) -> list[Revision]:
    """Each revision with its include closure (archeo/closure.py), and `closure` among what it
    touched when the commit changed one of the closure's files."""
    from .closure import closures
    from .platforms import revision_files, search_dirs

    present = [r for r, _ in found if r.present]
    roots = {r.commit: revision_files(r) for r in present}
    dirs = {r.commit: search_dirs(r, r.compile) for r in present}
    reached = closures(roots, dirs, lambda names: _cat_file_batch(repository, names))
    out = []
    for r, touched_paths in found:
        closure = reached.get(r.commit, {})
        touched = r.touched + (("closure",) if touched_paths & set(closure) else ())
        out.append(replace(r, closure=closure, touched=touched))
    return out


def _merge_changes(repository: git.Repo, metas: list, paths: list[str]) -> dict[str, list[_Pair] | int]:
    """For each merge among `metas`: the index of the first parent whose content on `paths`
    its result equals, else what it changed against its first parent.

    `git log --full-history` lists every merge (so a change made on a side branch is seen
    even where the merge kept the other side); a merge is a revision of its own only when its
    content differs from every parent's. One `git diff-tree --stdin` for all of them."""
    if not metas:
        return {}
    # parents as they are, not as `git log` rewrote them (a merge's may be rewritten to none)
    proc = repository.git.rev_list("--stdin", "--no-walk=unsorted", "--parents", as_process=True, istream=subprocess.PIPE)
    out, _ = proc.proc.communicate("".join(meta[0] + "\n" for meta in metas).encode())
    real = out.decode().splitlines()
    pairs = [(line.split()[0], parent) for line in real if len(line.split()) > 2 for parent in line.split()[1:]]
    if not pairs:
        return {}
    proc = repository.git(c="core.quotePath=false").diff_tree(
        "--stdin", "-r", "-M", "--always", "--no-abbrev", "--format=C %H", "--", *paths, as_process=True, istream=subprocess.PIPE
    )
    out, _ = proc.proc.communicate("".join(f"{m} {p}\n" for m, p in pairs).encode())
    diffs: list[list[_Pair]] = []
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("C "):
            diffs.append([])
        elif line.startswith(":") and diffs:
            diffs[-1].append(_raw_pair(line))
    result: dict[str, list[_Pair] | int] = {}
    index: dict[str, int] = {}
    for (merge, _), diff in zip(pairs, diffs):
        i = index[merge] = index.get(merge, -1) + 1
        if merge not in result:
            result[merge] = diff  # against the first parent
        if not diff and not isinstance(result[merge], int):
            result[merge] = i
    return result


def _raw_pair(raw: str, added: int = 0, removed: int = 0) -> _Pair:
    """One `--raw` line as a pair (C and T folded into M)."""
    meta, *names = raw.split("\t")
    fields = meta.split()
    status = fields[4][0]
    old = names[0] if status in "DMRT" else None
    new = names[-1] if status in "AMRCT" else None
    return _Pair(status if status in "ADR" else "M", old, new, None if fields[3] == _NULL_SHA else fields[3], added, removed)


def _log(repository: git.Repo, rev: str, paths: list[str]) -> list[tuple[tuple[str, str, str, str], list[_Pair]]]:
    """`git log` oldest first with raw pairs and line counts, renames detected."""
    try:
        out = repository.git(c="core.quotePath=false").log(
            rev,
            "--reverse",
            "--topo-order",
            "--full-history",  # side branches too; merges with nothing of their own are dropped later
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
            added = removed = 0
            if i < len(stats):
                a, r = stats[i].split("\t")[:2]
                added, removed = (int(a) if a.isdigit() else 0), (int(r) if r.isdigit() else 0)
            pairs.append(_raw_pair(raw, added, removed))
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
        "schema": schemas.MINE,
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
