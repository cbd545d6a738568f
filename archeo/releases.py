"""Which release tags carry a change: `git for-each-ref --contains`, filtered by the target's pattern."""

from __future__ import annotations

import re

import git


def _version_key(tag: str):
    """Natural order, so RELEASE-4.10.0 sorts after RELEASE-4.9.0."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", tag)]


class ReleaseIndex:
    """Answers "which releases contain this commit" with one git call per commit, memoised."""

    def __init__(self, repository: git.Repo, pattern: str):
        self.repository = repository
        self.pattern = pattern
        self._memo: dict[str, frozenset[str]] = {}

    def containing(self, commit: str) -> frozenset[str]:
        if not self.pattern:
            return frozenset()
        if commit not in self._memo:
            try:
                out = self.repository.git.for_each_ref("--format=%(refname:short)", "--contains", commit, f"refs/tags/{self.pattern}")
            except git.GitCommandError:
                out = ""
            self._memo[commit] = frozenset(out.split())
        return self._memo[commit]

    def carrying(self, introduced: str, ended: str | None) -> list[str]:
        """Releases that contain the change and not the commit that ended it, oldest first."""
        tags = self.containing(introduced) - (self.containing(ended) if ended else frozenset())
        return sorted(tags, key=_version_key)
