"""Deterministic git histories written straight into the object store with gitpython.

Trees and commits get fixed names and dates, so the same steps give the same commit ids on
every run and machine (no hooks, no index, no user config involved). The tests build their
histories with it, and `archeo demo` its own.
"""

from __future__ import annotations

import datetime as _dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import git
from git.objects.fun import tree_to_stream
from gitdb.base import IStream

from .fixtures import AUTHOR_EMAIL, AUTHOR_NAME, COMMITTER_EMAIL, COMMITTER_NAME, resolve_text


@dataclass(frozen=True)
class Step:
    """One commit.

    Applied in this order: ``renames`` (content kept), then ``writes`` (path -> fixture
    reference or text, see ``resolve_text``), then ``deletes``.  ``branch`` is the branch
    committed to; a branch not seen before starts at the current head of ``start``.
    ``merge`` names a branch merged into ``branch`` by this commit (a second parent);
    the merged tree is a file-level three-way merge, and a file changed on both sides
    must be given in ``writes``.  ``tag`` adds a lightweight tag.  ``date`` is
    ``YYYY-MM-DD`` (noon UTC) or an ISO 8601 time.
    """

    message: str
    date: str
    writes: Mapping[str, str] = field(default_factory=dict)
    deletes: tuple[str, ...] = ()
    renames: Mapping[str, str] = field(default_factory=dict)
    branch: str = "main"
    start: str = "main"
    merge: str | None = None
    tag: str = ""
    label: str = ""
    author: str = AUTHOR_NAME


class History(NamedTuple):
    """``build_history``'s result; unpacks as ``repo_path, commits``."""

    path: Path
    commits: list[str]  # full ids, one per step, in step order


def _git_time(date: str) -> str:
    """``YYYY-MM-DD`` or ISO 8601 -> git's internal ``<epoch> <+hhmm>`` form."""
    if len(date) == 10:
        date += "T12:00:00+00:00"
    when = _dt.datetime.fromisoformat(date)
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    minutes = int(when.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _store(repo: git.Repo, kind: bytes, data: bytes) -> bytes:
    return repo.odb.store(IStream(kind, len(data), io.BytesIO(data))).binsha


def _write_tree(repo: git.Repo, files: Mapping[str, bytes]) -> bytes:
    """Write a (nested) tree for {path: content}; returns its binary id."""
    blobs: dict[str, bytes] = {}
    subdirs: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = data
        else:
            blobs[head] = data
    entries = [(_store(repo, b"blob", data), 0o100644, name) for name, data in blobs.items()]
    entries += [(_write_tree(repo, sub), 0o040000, name) for name, sub in subdirs.items()]
    # git orders tree entries by name, a directory as if its name ended in "/".
    entries.sort(key=lambda e: (e[2] + ("/" if e[1] == 0o040000 else "")).encode())
    buf = io.BytesIO()
    tree_to_stream(entries, buf.write)
    return _store(repo, b"tree", buf.getvalue())


def _merge_trees(base, ours, theirs, resolved) -> dict[str, bytes]:
    merged: dict[str, bytes] = {}
    for path in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if o == t or t == b:
            pick = o
        elif o == b:
            pick = t
        elif path in resolved:
            continue  # the step writes it
        else:
            raise ValueError(f"merge conflict on {path}: give its merged text in Step.writes")
        if pick is not None:
            merged[path] = pick
    return merged


def build_history(tmp_path: Path | str, steps: Iterable[Step], name: str = "repo") -> History:
    """Create ``tmp_path/name`` as a git repository with one commit per step.

    Returns the repository path and the full commit ids in step order.  The working
    tree is checked out at the head of ``main``.  Same steps, same ids.
    """
    path = Path(tmp_path) / name
    path.mkdir(parents=True, exist_ok=False)
    repo = git.Repo.init(path, initial_branch="main")
    heads: dict[str, git.Commit] = {}
    trees: dict[str, dict[str, bytes]] = {}
    fork: dict[str, dict[str, bytes]] = {}  # tree a branch started from (its merge base)
    commits: list[str] = []
    try:
        for step in steps:
            if step.branch not in trees:
                if step.branch != "main" and step.start not in trees:
                    raise ValueError(f"branch {step.branch!r} starts from unknown {step.start!r}")
                trees[step.branch] = dict(trees.get(step.start, {}))
                fork[step.branch] = dict(trees.get(step.start, {}))
                if step.start in heads:
                    heads[step.branch] = heads[step.start]
            files = trees[step.branch]
            parents = [heads[step.branch]] if step.branch in heads else []
            if step.merge is not None:
                if step.merge not in heads:
                    raise ValueError(f"cannot merge unknown branch {step.merge!r}")
                files = _merge_trees(fork[step.merge], files, trees[step.merge], step.writes)
                parents.append(heads[step.merge])
            files = dict(files)
            for old, new in step.renames.items():
                files[new] = files.pop(old)
            for p, value in step.writes.items():
                files[p] = resolve_text(value).encode()
            for p in step.deletes:
                del files[p]
            tree = git.Tree(repo, _write_tree(repo, files))
            when = _git_time(step.date)
            message = step.message if step.message.endswith("\n") else step.message + "\n"
            commit = git.Commit.create_from_tree(
                repo,
                tree,
                message,
                parent_commits=parents,
                head=False,
                author=git.Actor(step.author, AUTHOR_EMAIL),
                committer=git.Actor(COMMITTER_NAME, COMMITTER_EMAIL),
                author_date=when,
                commit_date=when,
            )
            heads[step.branch] = commit
            trees[step.branch] = files
            if step.tag:
                repo.create_tag(step.tag, ref=commit)
            commits.append(commit.hexsha)
        for branch, commit in heads.items():
            repo.create_head(branch, commit, force=True)
        if "main" in heads:
            repo.head.reset(index=True, working_tree=True)
    finally:
        repo.close()
    return History(path, commits)
