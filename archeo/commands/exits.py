"""Exit codes of `archeo run` and `archeo difftest`, and the one line that says why.

Why pytest-style codes: a script or CI job must tell "ran, nothing to report" from "found
behavioural changes" from "could not test anything" without reading the output. A run that
built no revision used to print "No behavioural change between consecutive revisions" and
exit 0 — an untested history reported as an unchanged one.

    0  ran, and nothing at or above --fail-on (always, without --fail-on)
    1  a finding at or above --fail-on: a behavioural change, or a difference from the reference
    2  bad input (archeo.errors.ArcheoError) or usage
    3  nothing could be tested: no present revision built
"""

from __future__ import annotations

from ..levels import Level

LEVEL_NAMES = tuple(level.value for level in Level)

OK, FINDINGS, BAD_INPUT, NOTHING_TESTED = 0, 1, 2, 3

EPILOG = (
    "exit codes: 0 ran (and nothing at or above --fail-on); 1 findings at or above --fail-on; "
    "2 bad input; 3 nothing could be tested (no present revision built)"
)


def add_fail_on(parser) -> None:
    parser.add_argument(
        "--fail-on", metavar="LEVEL", choices=LEVEL_NAMES[1:],
        help=f"exit 1 when a change or a difference from the reference reaches LEVEL ({', '.join(LEVEL_NAMES[1:])}); off by default",
    )


def nothing_tested(result) -> str | None:
    """The line that says nothing was tested, or None when some revision was (`result`: a DifftestResult)."""
    present = len(result.revisions)
    if any(v.status == "tested" for v in result.revisions):
        return None
    return f"0 of {present} present revisions built — nothing was tested; see the build column"


def findings_at(result, fail_on: str | None) -> str | None:
    """The strongest level found when it reaches `fail_on`, else None."""
    if not fail_on:
        return None
    found = [level for c in result.changes for level in (c.levels or (c.level,))]
    found += [v.vs_reference.level for v in result.revisions if v.vs_reference is not None]
    strongest = Level.strongest(found)
    return strongest if strongest >= fail_on else None


def exit_code(result, fail_on: str | None) -> tuple[int, str | None]:
    """(code, the line to print on stderr or None)."""
    line = nothing_tested(result)
    if line:
        return NOTHING_TESTED, line
    level = findings_at(result, fail_on)
    if level:
        return FINDINGS, f"findings at or above --fail-on {fail_on}: the strongest is {level}"
    return OK, None
