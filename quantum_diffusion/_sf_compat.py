"""The one place that imports strawberryfields (a cross-check dependency only; core code never uses it).

strawberryfields 0.23 does ``from scipy.integrate import simps``; SciPy >= 1.14 removed ``simps``
in favour of ``simpson``.  :func:`ensure_simps_alias` adds the alias only when it is missing, and
:func:`import_strawberryfields` applies it before importing.
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["ensure_simps_alias", "import_strawberryfields"]


def ensure_simps_alias() -> bool:
    """Alias ``scipy.integrate.simps`` to ``simpson`` when absent; return True if it was added."""
    import scipy.integrate

    if hasattr(scipy.integrate, "simps"):
        return False
    scipy.integrate.simps = scipy.integrate.simpson
    return True


def import_strawberryfields() -> ModuleType:
    """Import strawberryfields after applying :func:`ensure_simps_alias`.

    Raises
    ------
    ImportError
        If strawberryfields is not installed (install the ``sf`` extra).
    """
    ensure_simps_alias()
    try:
        import strawberryfields as sf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "strawberryfields is needed for this cross-check: pip install 'quantum-diffusion[sf]'"
        ) from exc
    return sf
