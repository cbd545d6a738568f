"""A program's counted variant: its revision compiled with every basic block counted.

Why: a hang is first seen by a timing limit (the CPU budget, the 2 ms watchdog), and a timing
sample is only a suspicion (archeo/confirm.py). Confirming it with every limit 20 times larger
is sound but dear: a real endless loop then spends the whole larger limit, 40 ms of CPU or
more, on every hanging seed and every hanging shrink candidate. The counted variant decides
the same question by a number instead: its revision's .c is compiled with gcc's
`-fsanitize-coverage=trace-pc`, which calls `__sanitizer_cov_trace_pc` (archeo/shim/
harness_rt.c) at every basic block, and a run with `--step-limit N` ends as a hang once one
call into the revision has gone through more than N blocks without the engine's heartbeat.
That count is the same on every machine and at any load, and an endless loop reaches it in
about a millisecond.

Only confirming runs use it, and only to confirm: a hang it shows is believed (it ran with the
confirming CPU and wall limits, no watchdog, and the step limit); anything else it shows is
not taken, and the suspect is confirmed by the real program with the confirming limits, as
before (confirm.Stepped). So correct revisions pay nothing, and no outcome of the counted
build ever stands for the real program's but a hang.

Built on first use, from what the program's build kept (`recipe`): the revision's
preprocessed unit (`revision.i`, its code identity's), the compile command, and the shared
harness engine object; the variant is cached beside the program (`program-steps`). A program
without them (a sanitizer build, a harness compiled from its sources) has no variant.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from . import elfcheck
from .build_cache import put_object
from .build_layout import CONFIG_PATH

COUNT_FLAG = "-fsanitize-coverage=trace-pc"
UNIT = "revision.i"  # kept in the program's cache entry
STEPPED = "program-steps"  # the variant, beside `program`


def recipe(builder, unit: Path, revision_step: list[str], harness_object: Path | None) -> dict:
    """What the build keeps for the counted variant (program.json's `stepped`, and the unit
    `unit`, the revision's preprocessed .c, among the entry's files), or {} when it cannot
    have one."""
    if builder.sanitize or harness_object is None or not unit.exists():
        return {}
    argv = list(revision_step)
    argv[argv.index("-c") + 1] = UNIT
    argv[argv.index("-o") + 1] = "revision.o"
    cache = builder.cache_dir
    return {"stepped": {"argv": argv, "harness": str(harness_object.relative_to(cache))}, "_files": {UNIT: unit}}


def recipe_of(entry: Path, info: dict) -> dict:
    """The recipe of an earlier build of the same code (its entry and program.json)."""
    if not info.get("stepped") or not (entry / UNIT).exists():
        return {}
    return {"stepped": info["stepped"], "_files": {UNIT: entry / UNIT}}


def stepped(builder, program) -> str | None:
    """The counted variant's path, built once (threads wait for each other); None without one."""
    if not program.ok or program.sanitize:
        return None
    entry = Path(program.path).parent
    out = entry / STEPPED
    try:
        info = json.loads((entry / "program.json").read_text())
    except (OSError, ValueError):
        return None
    how = info.get("stepped")
    if not how or not (entry / UNIT).exists():
        return None
    with builder._claims.claim(str(out)):
        if out.exists():
            return str(out)
        failed_mark = entry / (STEPPED + ".failed")
        if failed_mark.exists():
            return None
        failed = _build(builder, entry, how, out)
        if failed is not None:
            if not failed.get("transient"):  # a compile's verdict is as deterministic as the program's: not tried again
                failed_mark.write_text("")
            return None
    return str(out)


def _build(builder, entry: Path, how: dict, out: Path) -> dict | None:
    """Compile the kept unit with blocks counted, link it as the program was (confined) and
    put it at `out`: None, or the failure (`transient`: a killed compiler, a missing object)."""
    harness = builder.cache_dir / how["harness"]
    if not harness.exists():
        return {"transient": True}
    with tempfile.TemporaryDirectory(prefix="archeo-steps-") as name:
        tmp = Path(name)
        shutil.copy2(entry / UNIT, tmp / UNIT)
        shutil.copy2(harness, tmp / "harness.o")
        (tmp / CONFIG_PATH).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(entry / "archeo_config.h", tmp / CONFIG_PATH)
        argv = list(how["argv"])
        argv.insert(argv.index("-c"), COUNT_FLAG)
        failed = builder._run_confined(argv, tmp)
        if not failed:
            link = [builder.toolchain.cc, *builder.flags, "-o", "program", "revision.o", "harness.o",
                    *builder._confined_objects(tmp), builder.commit_source(tmp)]
            failed = builder._run_confined(link, tmp, "linker")
        if not failed and elfcheck.check_objects([tmp / "revision.o"], builder.toolchain.cc):
            failed = {"transient": False}
        if not failed:
            put_object(tmp / "program", out)
        return failed or None
