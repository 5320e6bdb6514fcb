"""Reusable analytic test systems (see ``tests/README.md``); import as ``from systems import qubit``.

``tests/`` is on ``sys.path`` during the tests (``pythonpath`` in ``pyproject.toml``); each module here builds one
family of systems whose exact answer is known in closed form, and ``tests/systems/test_systems.py`` checks that
every closed form is what the package computes.
"""

__all__ = ["classical_chain", "gaussian", "qubit", "random_systems"]
