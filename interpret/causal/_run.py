"""Call causal-learn's PC / FCI silently and decode the result. Private: the public entry is ``discover``."""
from __future__ import annotations

import contextlib
import io
import logging
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._seeding import numpy_global_seed
from ._decode import decode_graph
from .background import Background

__all__ = ["run_causallearn", "STOCHASTIC_TESTS", "UC_RULE_CODES", "UC_PRIORITY_CODES"]

log = logging.getLogger(__name__)
STOCHASTIC_TESTS = ("rcit", "fastkci")
# PC's collider-orientation options by name -> causal-learn's pc(uc_rule=, uc_priority=) integer codes
UC_RULE_CODES = {"sepset": 0, "maxp": 1, "definite_maxp": 2}
UC_PRIORITY_CODES = {"overwrite": 0, "bidirected": 1, "existing": 2, "stronger": 3, "stronger_star": 4}
# sys.stdout is process-global: redirecting it from two threads at once can leave it pointing at a dead
# buffer, so FCI calls (the only ones that print) are serialised within a process.
_STDOUT_LOCK = threading.Lock()


class _StableName(str):
    """A node name whose hash does not depend on ``PYTHONHASHSEED``.

    causal-learn keeps nodes in sets and dicts hashed by name and iterates over them while orienting edges, so
    with plain strings FCI's graph (and every bootstrap frequency) depends on the process's hash seed: it
    changed between runs, and between a Dask cluster (whose workers get a fixed seed) and local processes.
    Equality is the string's; the hash is a CRC of its UTF-8 bytes.
    """

    __slots__ = ()

    def __hash__(self) -> int:
        return zlib.crc32(self.encode())


def run_causallearn(x: np.ndarray, names: Sequence[str], *, method: str, test: str, alpha: float,
                    background: Background | None, seed: int | None = None, depth: int = -1,
                    test_kwargs: dict[str, Any] | None = None, uc_rule: str = "sepset",
                    uc_priority: str = "existing", **kwargs: Any) -> list[tuple[str, str, str]]:
    """Run PC or FCI with progress bars and printing off; return decoded edges.

    ``uc_rule`` / ``uc_priority`` (names, see ``UC_RULE_CODES``) apply to PC only; the defaults are pc()'s own.
    """
    bk = background.to_causallearn(_StableName) if background is not None else None
    stable = [_StableName(n) for n in names]
    kw = dict(test_kwargs or {})
    with numpy_global_seed(seed if test in STOCHASTIC_TESTS else None):
        if method == "pc":
            from causallearn.search.ConstraintBased.PC import pc

            cg = pc(x, alpha=alpha, indep_test=test, background_knowledge=bk, show_progress=False,
                    uc_rule=UC_RULE_CODES[uc_rule], uc_priority=UC_PRIORITY_CODES[uc_priority],
                    verbose=False, node_names=stable, mvpc=test == "mv_fisherz",
                    max_k=None if depth < 0 else depth, **kwargs, **kw)
            matrix = cg.G.graph
        else:
            from causallearn.search.ConstraintBased.FCI import fci

            buf = io.StringIO()
            with _STDOUT_LOCK, contextlib.redirect_stdout(buf):   # FCI prints even with verbose=False
                graph, _ = fci(x, independence_test_method=test, alpha=alpha, depth=depth,
                               background_knowledge=bk, show_progress=False, verbose=False,
                               node_names=stable, **kwargs, **kw)
            if buf.getvalue():
                log.debug("causal-learn FCI output:\n%s", buf.getvalue())
            matrix = graph.graph
    return decode_graph(matrix, names)
