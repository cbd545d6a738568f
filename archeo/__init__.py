"""archeo: historical source archaeology and differential testing of C code.

Every stage is usable on its own from Python, e.g. in a notebook:

    from archeo import mine, parse_revision, diff_models, run_study, write_report
    revisions = mine("xen-rbtree", repo="/path/to/xen")
    models = [parse_revision(r) for r in revisions if r.present]
    study = run_study(load_target("xen-rbtree"), "/path/to/xen")
    write_report(study, "reports/xen-rbtree")

The names below import their stage lazily, so `import archeo` stays cheap.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "mine": ("mine", "mine"),
    "load_target": ("target", "load_target"),
    "parse_revision": ("parse", "parse_revision"),
    "diff_models": ("parse.astdiff", "diff_models"),
    "build_revision": ("build", "build_revision"),
    "run_program": ("execute", "run_program"),
    "difftest": ("difftest", "difftest"),
    "Settings": ("difftest", "Settings"),
    "run_study": ("pipeline", "run_study"),
    "RunConfig": ("pipeline", "RunConfig"),
    "write_report": ("report", "write_report"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        module, attr = _EXPORTS[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'archeo' has no attribute {name!r}")
