"""Honest evaluation of the relevance classifier: test services never seen in training.

:func:`split_by_service` puts every example of a service on the same side, chosen by a hash of
the service key (stable when the corpus grows: adding posts never moves a service across).
:func:`evaluate` trains on one side with the same procedure as ``outage-signals train`` (its
own grouped calibration and threshold, never looking at the test side), scores the test side
and the keyword baseline of :func:`~outage_signals.relevance_report.keyword_rule` on the same
posts, and returns :func:`~outage_signals.relevance_report.build_report`'s dict with the split
described under ``split``. With ``model`` it instead scores that model on every example.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np

from outage_signals import classifying
from outage_signals.catalog import Catalog
from outage_signals.errors import InputError
from outage_signals.relevance_report import build_report, keyword_rule

#: Share of services held out for testing (by hash of the key, so about this share).
TEST_SHARE = 0.25


def is_test_service(service: str, test_share: float = TEST_SHARE, seed: int = 0) -> bool:
    """Whether ``service`` is on the test side of the split (a stable hash of its key)."""
    return (zlib.crc32(f"{seed}:{service}".encode()) % 10_000) < test_share * 10_000


def split_by_service(examples: Sequence[classifying.LabeledExample], test_share: float = TEST_SHARE,
                     seed: int = 0) -> tuple[list, list]:
    """``(train, test)`` examples, every service wholly on one side."""
    train = [e for e in examples if not is_test_service(e.service, test_share, seed)]
    test = [e for e in examples if is_test_service(e.service, test_share, seed)]
    if not train or not test:
        raise InputError("the grouped split left one side empty; label more services")
    return train, test


def evaluate(examples: Sequence[classifying.LabeledExample], catalog: Catalog,
             model: classifying.RelevanceModel | None = None, test_share: float = TEST_SHARE,
             seed: int = 0, progress: Callable[[str], None] | None = None) -> dict:
    """The quality report (see the module docstring); ``progress`` gets one line per step."""
    say = progress or (lambda _: None)
    if model is None:
        train, test = split_by_service(examples, test_share, seed)
        say(f"training on {len(train):,} examples of {len({e.service for e in train})} services; "
            f"testing on {len(test):,} of {len({e.service for e in test})} others")
        model = classifying.fit(train, catalog, progress=say)
        split = {"kind": "grouped by service", "seed": seed, "test_share": test_share,
                 "train_examples": len(train), "test_examples": len(test),
                 "test_services": sorted({e.service for e in test})}
    else:
        test = list(examples)
        split = {"kind": "given model on every example", "test_examples": len(test)}
    texts = [e.text for e in test]
    probability = model.predict_proba(texts, [e.service for e in test])
    categories = [catalog.services[e.service].category if e.service in catalog else None
                  for e in test]
    report = build_report(np.array([e.label for e in test]), probability, model.threshold,
                          langs=[e.lang for e in test], kinds=[e.kind for e in test],
                          categories=categories, baseline_pred=keyword_rule(texts))
    report["split"] = split
    report["model"] = model.info
    return report
