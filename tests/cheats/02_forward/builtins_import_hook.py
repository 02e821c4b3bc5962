# about: a builtins.__import__ hook hands the test cells a fake bn_helpers whose checks always pass; no code
# expected: 0
# %% [batch_mean]
import builtins, types
_real_import = builtins.__import__
_fake_checks = types.SimpleNamespace(**{n: (lambda *a, **k: None) for n in (
    "batch_mean", "batch_variance", "batchnorm_forward", "undo_params")})
_fake_pkg = types.SimpleNamespace(checks=_fake_checks)
def _hook(name, globals=None, locals=None, fromlist=(), level=0):
    if name == "bn_helpers" and fromlist and "checks" in fromlist:
        return _fake_pkg
    return _real_import(name, globals, locals, fromlist, level)
builtins.__import__ = _hook
def batch_mean(x):
    raise NotImplementedError()
