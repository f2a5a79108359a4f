"""float64_defaults: float64 inside, the old default restored after, safe across threads."""

from __future__ import annotations

import threading

import torch

from explorer.core.precision import float64_defaults


def test_inside_float64_then_restored_even_after_an_error() -> None:
    assert torch.get_default_dtype() == torch.float32
    with float64_defaults():
        assert torch.tensor(0.1).dtype == torch.float64
        with float64_defaults():  # nested: the inner exit must not restore early
            pass
        assert torch.get_default_dtype() == torch.float64
    assert torch.get_default_dtype() == torch.float32
    try:
        with float64_defaults():
            raise KeyError("boom")
    except KeyError:
        pass
    assert torch.get_default_dtype() == torch.float32


def test_overlapping_threads_keep_float64_until_the_last_leaves() -> None:
    """Thread A enters, B enters, A leaves: B must still see float64 (a plain save and restore
    per thread would hand B float32 here)."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[torch.dtype] = []

    def first() -> None:
        with float64_defaults():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def second() -> None:
        a_in.wait(10)
        with float64_defaults():
            b_in.set()
            a_out.wait(10)
            seen.append(torch.get_default_dtype())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [torch.float64]
    assert torch.get_default_dtype() == torch.float32
