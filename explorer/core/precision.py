"""Float64 as torch's default dtype while optimisers are built and stepped.

torch keeps some optimiser state in its default dtype (float32 unless changed): NAdam's
running product of momentum factors, the step counts of Adam and its family, Adagrad's. A
float32 product drifts from the float64 update rule by about 1e-8 within a few hundred steps,
so every optimiser is built and stepped under float64_defaults.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

# The default dtype is one setting for the whole process, and the engine steps optimisers in
# several threads at once: one lock and a count of holders, so that the first one in sets
# float64 and only the last one out restores the old dtype.
_lock = threading.Lock()
_holders = 0
_saved: Any = None


@contextlib.contextmanager
def float64_defaults() -> Iterator[None]:
    """Run the body with float64 as torch's default dtype, restoring the old one afterwards."""
    import torch

    global _holders, _saved
    with _lock:
        if _holders == 0:
            _saved = torch.get_default_dtype()
            torch.set_default_dtype(torch.float64)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                torch.set_default_dtype(_saved)
