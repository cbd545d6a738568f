"""archeo: historical source archaeology and differential testing of C code.

The stages are usable one by one from Python, e.g. in a notebook:

    from archeo import mine
    revisions = mine("xen-rbtree", repo="/path/to/xen")
"""

__version__ = "0.1.0"


def mine(*args, **kwargs):
    """Every revision of a target, oldest first (see archeo.mine.mine)."""
    from .mine import mine as _mine

    return _mine(*args, **kwargs)


def load_target(*args, **kwargs):
    from .target import load_target as _load

    return _load(*args, **kwargs)
