"""BLAS thread limiting for loops of many small dense matrix operations.

On a 2-core machine a multi-threaded BLAS spends more time synchronising than computing on
matrices of size ~10-100; :func:`small_blas` caps BLAS to one thread inside a ``with`` block
(threadpoolctl), and is a no-op when threadpoolctl finds no BLAS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

__all__ = ["small_blas"]


@contextmanager
def small_blas(threads: int = 1) -> Iterator[None]:
    """Limit BLAS to ``threads`` threads inside the block."""
    with threadpool_limits(limits=threads, user_api="blas"):
        yield
