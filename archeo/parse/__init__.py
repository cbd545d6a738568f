"""The parse stage: a revision's C in, a `Model` out (functions, types, macros, public API).

    history.py   parse a history, run by run, in worker processes (the entry points)
    frontend.py  lay out, `gcc -E -dD` through the platform's plan, pycparserext's parser
    visitors.py  `NodeVisitor`s that read one fact each off the AST
    facts.py     what each top-level declaration gives, as plain reusable values
    model.py     the facts, braces and defines assembled into a `Model`
    macros.py    macro bodies' normal forms
    rawtext.py   raw C text: comments stripped, identifiers
    chunks.py    a preprocessed unit cut into top-level chunks, and its braces, without parsing
    reuse.py     the facts of chunks already parsed earlier in the run, reused
    astdiff.py   two models compared: the structural changes between revisions

    >>> from archeo.parse import parse_history
    >>> models = parse_history(revisions)          # one Model per present revision
"""

from .history import Reuse, history_runs, parse_history, parse_revision, parse_run

__all__ = ["Reuse", "history_runs", "parse_history", "parse_revision", "parse_run"]
