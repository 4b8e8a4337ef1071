"""Logging for rule scripts: everything (logging and stderr) goes to the rule's log file.

Usage in a rule script::

    with job_log(snakemake.log[0]):
        recunlearn.something(...)

A failure is written to the log as one line (``ERROR <type>: <message>``) and re-raised, so Snakemake
marks the job failed and ``--show-failed-logs`` shows the reason.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time


@contextlib.contextmanager
def job_log(path: str | None, level: int = logging.INFO):
    fh = open(path, "a", buffering=1) if path else sys.stderr
    handler = logging.StreamHandler(fh)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    old_stderr = sys.stderr
    sys.stderr = fh
    t0 = time.monotonic()
    try:
        yield logging.getLogger("recunlearn.job")
    except Exception as exc:
        logging.getLogger("recunlearn.job").error("%s: %s", type(exc).__name__, exc)
        raise
    else:
        logging.getLogger("recunlearn.job").info("done in %.1f s", time.monotonic() - t0)
    finally:
        sys.stderr = old_stderr
        root.removeHandler(handler)
        if fh is not sys.stderr and fh is not old_stderr:
            fh.close()
