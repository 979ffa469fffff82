"""The relevance classifier: a real model trained on the packaged corpus."""

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
    assert len(examples) >= 1000
    assert len({e.service for e in examples}) >= 50
    assert {e.lang for e in examples} >= {"en", "es", "pt", "de", "fr", "it", "ja", "nl"}
    assert 0.3 < sum(e.label for e in examples) / len(examples) < 0.6


def test_model_is_trained_with_a_chosen_threshold(model):
    assert 0.2 <= model.threshold <= 0.8
    assert model.info["examples"] >= 1000
    assert model.info["grouped_cv_f1"] > 0.75
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
