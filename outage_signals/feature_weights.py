"""Weigh each feature column by how strongly it separates the classes in the training data.

:class:`LogRatioWeights` sits between the TF-IDF features and the linear SVM. It multiplies
column ``j`` by ``1 + |r_j|``, where ``r_j`` is the log-ratio of how often the column occurs in
positive versus negative training posts (smoothed by ``alpha``)::

    p = alpha + (positive posts containing j)    q = alpha + (negative posts containing j)
    r = ln( (p / sum p) / (q / sum q) )

The idea is the NB-SVM of Wang and Manning ("Baselines and Bigrams", ACL 2012): naive-Bayes
log-count ratios as feature scales make a linear SVM on short texts markedly better. Their
scale is ``r`` itself; ``1 + |r|`` keeps every column's sign to the SVM and never silences a
column, which worked better here. On a service-grouped 5-fold cross-validation of the bundled
corpus (17,000 posts, best threshold per fold) these weights raised mean F1 from 0.915 to 0.920
and PR-AUC from 0.973 to 0.975; ``alpha`` 0.5 was a little better than 1 or 2.

Columns never seen in training get the scale of a column seen in neither class (``r`` from the
smoothing alone), so unseen hashed n-grams still count.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin


class LogRatioWeights(TransformerMixin, BaseEstimator):
    """Scale CSR columns by ``1 + |naive-Bayes log-count ratio|`` (see the module).

    ``alpha``: additive smoothing of the per-class document counts. After :meth:`fit`,
    ``scale_`` holds one float32 factor per column.
    """

    def __init__(self, alpha: float = 0.5):
        self.alpha = alpha

    def fit(self, X, y):
        """Learn the column scales from ``X`` (n posts × columns, any non-negative values)
        and 0/1 labels ``y``; a column counts once per post it occurs in."""
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        present = X.copy()
        present.sum_duplicates()
        present.data = np.ones_like(present.data)
        width = X.shape[1]
        p = self.alpha + np.bincount(present[y == 1].indices, minlength=width)
        q = self.alpha + np.bincount(present[y == 0].indices, minlength=width)
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        self.scale_ = (1.0 + np.abs(ratio)).astype(np.float32)
        return self

    def transform(self, X) -> sp.csr_matrix:
        """``X`` with every stored value multiplied by its column's scale (a new matrix)."""
        X = sp.csr_matrix(X, copy=True)
        X.data = (X.data * self.scale_[X.indices]).astype(np.float32)
        return X


class LinearBlend(ClassifierMixin, BaseEstimator):
    """Three linear models on the same TF-IDF rows, blended into one linear model.

    Members: a linear SVM on the columns scaled by :class:`LogRatioWeights` (NB-SVM), a linear
    SVM on the plain columns, and complement naive Bayes (``nb_alpha`` smoothing). Each
    member's decision values are divided by their spread on the training posts, then averaged
    with weights 1, 1 and ``nb_weight``. All three are linear in the features, so the blend is
    itself one weight vector (``coef_``, ``intercept_``) and scoring costs what one SVM costs.
    The members make different mistakes: on the service-grouped 5-fold cross-validation of the
    bundled corpus (24,800 posts, best threshold per fold) mean F1 went from 0.926 (NB-SVM
    alone) to 0.928 with the plain SVM and 0.930 with naive Bayes at weight 0.5 (weight 2: 0.928).

    ``alpha``: smoothing of the log-ratio weights; ``C``: the SVMs' regularisation.
    """

    def __init__(self, alpha: float = 0.5, C: float = 0.5, nb_alpha: float = 0.3,
                 nb_weight: float = 0.5):
        self.alpha = alpha
        self.C = C
        self.nb_alpha = nb_alpha
        self.nb_weight = nb_weight

    def fit(self, X, y):
        """Fit the members on ``X`` (n posts × columns, CSR, non-negative) and 0/1 labels
        ``y``, and fold them into ``coef_`` and ``intercept_``."""
        from sklearn.naive_bayes import ComplementNB
        from sklearn.svm import LinearSVC

        X = sp.csr_matrix(X)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        weights = LogRatioWeights(self.alpha).fit(X, y)
        members = []  # (weight, coefficients on the plain columns, intercept)
        for scale in (weights.scale_, None):
            # liblinear shuffles: a fixed seed makes training reproducible.
            svm = LinearSVC(C=self.C, class_weight="balanced", random_state=0)
            svm.fit(X if scale is None else weights.transform(X), y)
            coef = svm.coef_.ravel() if scale is None else svm.coef_.ravel() * scale
            members.append((1.0, coef, float(svm.intercept_[0])))
        nb = ComplementNB(alpha=self.nb_alpha).fit(X, y)
        members.append((self.nb_weight, nb.feature_log_prob_[1] - nb.feature_log_prob_[0], 0.0))
        coef = np.zeros(X.shape[1])
        intercept = 0.0
        total = sum(w for w, _, _ in members)
        for weight, member_coef, member_intercept in members:
            spread = float(np.std(X @ member_coef)) or 1.0
            coef += (weight / total / spread) * member_coef
            intercept += (weight / total / spread) * member_intercept
        self.coef_ = coef.astype(np.float32)
        self.intercept_ = intercept
        return self

    def decision_function(self, X) -> np.ndarray:
        """Blended decision value per row (higher: more likely relevant)."""
        return np.asarray(sp.csr_matrix(X) @ self.coef_).ravel() + self.intercept_

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
