"""Naive-Bayes log-ratio column weights."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from outage_signals.feature_weights import LogRatioWeights


def test_columns_that_separate_the_classes_weigh_more():
    # Column 0 only in positives, column 1 in both equally, column 2 never seen.
    X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=np.float32))
    y = np.array([1, 1, 0, 0])
    weights = LogRatioWeights(alpha=0.5).fit(X, y)
    # p = 0.5 + [2, 2, 0], q = 0.5 + [0, 2, 0]; r = ln((p / 5.5) / (q / 3.5))
    assert np.isclose(weights.scale_[0], 1 + np.log((2.5 / 5.5) / (0.5 / 3.5)))
    # A column both classes share evenly weighs like one never seen, and less.
    assert np.isclose(weights.scale_[1], weights.scale_[2]) and weights.scale_[1] < weights.scale_[0]
    out = weights.transform(X)
    assert np.allclose(out.toarray()[0], [weights.scale_[0], weights.scale_[1], 0.0])
    assert np.array_equal(X.toarray()[0], [1, 1, 0])  # the input is not modified


def test_repeats_within_a_post_count_once():
    once = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    # The same first row with column 0 stored twice (as the hashed features store repeats).
    twice = sp.csr_matrix((np.array([0.5, 0.5, 1.0]), np.array([0, 0, 1]), np.array([0, 2, 3])),
                          shape=(2, 2))
    y = np.array([1, 0])
    assert np.allclose(LogRatioWeights().fit(once, y).scale_, LogRatioWeights().fit(twice, y).scale_)
