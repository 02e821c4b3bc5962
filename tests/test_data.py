"""Course data: worked example, the seed's table, the digits split."""
import numpy as np
import pytest

from bn_helpers import data


def test_worked_example():
    x = data.worked_example()
    assert x.shape == (5, 1) and x.dtype == np.float64
    assert x.ravel().tolist() == [2.3, -0.5, 1.8, 3.2, -1.2]


def test_placement_table_scales_differ_tenfold():
    t = data.placement_table()
    assert t["X"].shape == (4, 2)
    np.testing.assert_allclose(t["iq"], 10 * t["cgpa"])


def test_digits_split_standardized_and_seeded():
    d = data.load_digits_split(seed=0)
    assert d.X_train.shape == (1200, 64) and d.X_test.shape == (597, 64)
    assert set(np.unique(d.y_train)) == set(range(10))
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-12)
    stds = d.X_train.std(axis=0)
    assert np.all((np.abs(stds - 1) < 1e-12) | (stds == 0))
    again = data.load_digits_split(seed=0)
    assert np.array_equal(d.X_train, again.X_train)
    again.X_train[0, 0] = 1e9  # a caller's change does not leak into the cache
    assert data.load_digits_split(seed=0).X_train[0, 0] != 1e9
    assert not np.array_equal(data.load_digits_split(seed=1).y_train, d.y_train)


def test_digits_bad_split():
    with pytest.raises(ValueError, match="n_train must be between 1 and 1796; got 0"):
        data.load_digits_split(n_train=0)
