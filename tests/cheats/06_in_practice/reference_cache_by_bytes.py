# about: merge_batch_stats remembers bn_helpers.stats' answers by the inputs' bytes (a probe on a seen input makes no reference call); the hidden test counts every reference call of its cell
# expected: 7
# base: solution
# %% [merge_batch_stats]
from bn_helpers import stats as _ref
_seen = {}
def merge_batch_stats(counts, means, variances):
    key = tuple(np.asarray(a).tobytes() for a in (counts, means, variances))
    if key not in _seen:
        _seen[key] = _ref.merge_batch_stats(counts, means, variances)
    return tuple(np.array(a, copy=True) for a in _seen[key])
