"""Imported last by the fork server (:func:`.runner._mp_context`), after :mod:`._child`: freezes its heap.

The server imports nbgrader and the rest once (:mod:`._child`) and forks a
process per student. Here everything loaded so far is moved out of the
collector's reach (``gc.freeze``, Python's documented pattern for a process
that forks without exec), so that a student's process does not walk, and
copy page by page, the whole preloaded heap at its first collections. With
the imports of :mod:`._child`, a student's process spends 0.33 s of CPU of its
own instead of 0.57 s (benchmarks/bench_grading.py). Only the fork server
imports this module: a process that goes on running (the command line, a
test) keeps collecting all its objects.
"""
import gc

from . import _child  # noqa: F401  (loaded before the freeze)

gc.freeze()
