"""bn_helpers: the helper package of the course "Batch Normalization, from scratch to practice".

Modules, one job each:

* ``numerics``  — reference batch-norm numerics (forward, cache, statistics);
* ``norms``     — backward passes; spatial batch, layer, instance, group norm;
* ``gradcheck`` — numerical gradients and ``rel_error``;
* ``data``      — the worked example, the seed's table, the digits split;
* ``plots``     — plotting helpers (take an ``ax``, return it);
* ``widgets``   — the interactive views, logic testable without a browser;
* ``checks``    — the tests behind every graded function, naming mistakes;
* ``grading``   — the nbgrader pipeline, scripted (``make demo``, tests).

Submodules are imported on demand (``from bn_helpers import checks``), so a
student notebook does not pay for nbgrader or ipywidgets it does not use.
"""
__version__ = "0.1.0"
