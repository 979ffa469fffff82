"""Hashed word and character n-gram features."""

from __future__ import annotations

import numpy as np

from outage_signals.text_features import HashedTextFeatures


def test_rows_have_fixed_length_per_block_and_are_stable_across_instances():
    texts = ["outage", "__svc__ down down down", "ダウンロードした"]
    a = HashedTextFeatures(word_bits=10, char_bits=12, word_weight=1.0).fit(texts)
    b = HashedTextFeatures(word_bits=10, char_bits=12, word_weight=1.0).fit(texts)
    xa, xb = a.transform(texts).toarray(), b.transform(texts).toarray()
    assert np.array_equal(xa, xb)  # CRC-32 hashing: no per-process salt
    words, chars = xa[:, : 1 << 10], xa[:, 1 << 10:]
    # Repeats are summed by products, so the unit length holds for rows without repeats.
    assert np.allclose(np.linalg.norm(words[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(chars[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert words[1].max() > words[0].max()  # "down" three times weighs more
    heavier = HashedTextFeatures(word_bits=10, char_bits=12, word_weight=1.3).fit(texts)
    x = heavier.transform(texts).toarray()
    assert np.allclose(np.linalg.norm(x[[0, 2], : 1 << 10], axis=1), 1.3, atol=1e-5)
    assert np.allclose(x[:, 1 << 10:], chars)


def test_marks_and_emoji_are_tokens_of_their_own():
    feats = HashedTextFeatures(word_bits=12, char_bits=12).fit(["works here", "works here ✅"])
    plain, ticked, red = feats.transform(["works here", "works here ✅", "works here 🔴"]).toarray()
    assert not np.array_equal(plain, ticked) and not np.array_equal(ticked, red)


def test_unseen_tokens_share_character_features():
    feats = HashedTextFeatures(word_bits=10, char_bits=14).fit(["outage", "outages"])
    x = feats.transform(["outage", "outagez", "banana"]).toarray()
    chars = x[:, 1 << 10:]
    assert chars[0] @ chars[1] > 0.4 > 0.0 == chars[0] @ chars[2]
