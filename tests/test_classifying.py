"""The relevance classifier: the bundled model, its file format, training and evaluation."""

from __future__ import annotations

import json

import pytest

from outage_signals import classifying
from outage_signals.catalog import load_catalog
from outage_signals.errors import InputError
from outage_signals.jsonl import read_posts
from outage_signals.records import post_from_dict
from tests.conftest import SAMPLES, record, write_lines


@pytest.fixture(scope="module")
def model(catalog):
    return classifying.default_model(catalog)


def test_corpus_is_broad():
    examples = classifying.load_labeled()
    assert len(examples) >= 4000
    assert len({e.service for e in examples}) >= 60
    for lang in ("es", "pt", "de", "fr", "it", "ja", "nl"):
        assert sum(e.lang == lang for e in examples) >= 150, lang
    negative_kinds = {e.kind for e in examples if e.label == 0}
    assert len(negative_kinds) >= 25
    assert 0.3 < sum(e.label for e in examples) / len(examples) < 0.6


def test_bundled_model_was_trained_on_the_bundled_corpus(model):
    """The committed model file must be rebuilt (`outage-signals train`) when the corpus changes."""
    examples = classifying.mirror_other_service(classifying.load_labeled(), model.catalog)
    assert model.info["data_sha256"] == classifying.data_hash(examples)
    assert 0.2 <= model.threshold <= 0.8
    assert model.info["grouped_cv"]["f1"] > 0.8
    assert {"scikit-learn", "numpy", "python"} <= set(model.info["versions"])
    assert classifying.default_model(model.catalog) is model  # cached per process
    assert classifying.default_model(load_catalog({})) is model  # same content, same model


@pytest.mark.parametrize(
    ("text", "service", "relevant"),
    [
        ("is chatgpt down for everyone or just me", "chatgpt", True),
        ("Discord is down so I'm asking ChatGPT instead", "chatgpt", False),
        ("Discord is down so I'm asking ChatGPT instead", "discord", True),
        ("calm down, it's just a chatbot. chatgpt is fine", "chatgpt", False),
        ("¿Se cayó WhatsApp? no me llegan los mensajes", "whatsapp", True),
    ],
)
def test_judges_relevance_for_the_named_service(model, text, service, relevant):
    prob = model.predict_proba([text], [service])[0]
    assert bool(prob >= model.threshold) is relevant, prob


def test_posts_without_service_are_scored_for_each_named_service(model):
    post = post_from_dict(record(text="Slack is down again, switching to Zoom for the call"))
    scored = {s: p for _, s, p in classifying.score_posts([post], model)}
    assert set(scored) == {"slack", "zoom"}
    assert scored["slack"] > scored["zoom"]


def test_simulated_labelled_sample_is_classified_well(model):
    """Honest check on posts the model never saw (templates written independently)."""
    posts = [p for p in read_posts(str(SAMPLES / "labeled-sample.jsonl")) if p.service]
    probs = model.predict_proba([p.text for p in posts], [p.service for p in posts])
    labels = [p.extra["label"] for p in posts]
    tp = sum(1 for y, pr in zip(labels, probs, strict=True) if y and pr >= model.threshold)
    fp = sum(1 for y, pr in zip(labels, probs, strict=True) if not y and pr >= model.threshold)
    fn = sum(1 for y, pr in zip(labels, probs, strict=True) if y and pr < model.threshold)
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 > 0.6


def test_bad_labelled_file_names_line(tmp_path):
    path = write_lines(tmp_path / "l.jsonl", [json.dumps({"text": "x", "service": "a",
                                                          "label": 1}), '{"text": "y"}'])
    with pytest.raises(InputError, match=r"l\.jsonl:2: not a labelled example"):
        classifying.load_labeled(path)


def test_model_file_round_trip_and_refuses_foreign_types(tmp_path, catalog):
    examples = [e for e in classifying.load_labeled() if e.lang == "en"][:600]
    model = classifying.fit(examples, catalog, folds=3)
    path = tmp_path / "m.skops"
    model.save(path)
    again = classifying.load_model(path, catalog)
    texts, services = ["is discord down?", "downloading discord now"], ["discord", "discord"]
    assert list(again.predict_proba(texts, services)) == list(model.predict_proba(texts, services))
    assert again.threshold == model.threshold and again.info == model.info
    # Same examples, same model: training is deterministic.
    twin = classifying.fit(examples, catalog, folds=3)
    assert twin.threshold == model.threshold
    assert list(twin.predict_proba(texts, services)) == list(model.predict_proba(texts, services))

    import skops.io

    skops.io.dump({"pipeline": object.__new__(classifying.LabeledExample), "threshold": 0.5,
                   "info": "{}"}, tmp_path / "evil.skops")
    with pytest.raises(InputError, match="unexpected types"):
        classifying.load_model(tmp_path / "evil.skops", catalog)
    (tmp_path / "junk.skops").write_text("not a zip")
    with pytest.raises(InputError, match="not a relevance model"):
        classifying.load_model(tmp_path / "junk.skops", catalog)
