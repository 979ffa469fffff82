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


def _toy(seed=0, n=400, width=60):
    rng = np.random.default_rng(seed)
    X = rng.random((n, width)) * (rng.random((n, width)) < 0.2)
    y = (X[:, :5].sum(1) + 0.3 * rng.standard_normal(n) > X[:, 5:10].sum(1)).astype(int)
    return sp.csr_matrix(X.astype(np.float32)), y


def test_the_blend_is_one_linear_model_equal_to_its_members_average():
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    from outage_signals.feature_weights import LinearBlend

    X, y = _toy()
    blend = LinearBlend(alpha=0.5, C=0.5, nb_alpha=0.3, nb_weight=0.5).fit(X, y)
    # Rebuild the members by hand and average their standardised scores.
    weights = LogRatioWeights(0.5).fit(X, y)
    nbsvm = LinearSVC(C=0.5, class_weight="balanced", random_state=0).fit(weights.transform(X), y)
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=0).fit(X, y)
    nb = ComplementNB(alpha=0.3).fit(X, y)
    scores = [nbsvm.decision_function(weights.transform(X)), svm.decision_function(X),
              np.asarray(X @ (nb.feature_log_prob_[1] - nb.feature_log_prob_[0])).ravel()]
    spreads = [np.std(s - (nbsvm.intercept_[0] if i == 0 else svm.intercept_[0] if i == 1 else 0))
               for i, s in enumerate(scores)]
    expected = sum(w * s / sd for w, s, sd in zip((1, 1, 0.5), scores, spreads, strict=True)) / 2.5
    assert np.allclose(blend.decision_function(X), expected, atol=1e-4)
    # It ranks by the toy rule on posts it did not see too (the pipeline's Platt scaling, not
    # zero, sets the cut).
    from sklearn.metrics import roc_auc_score

    X2, y2 = _toy(seed=1)
    assert roc_auc_score(y2, blend.decision_function(X2)) > 0.9
    assert set(blend.classes_) == {0, 1}
