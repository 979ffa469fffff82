"""The service catalog: packaged contents, user overrides, alias matching and masking."""

from __future__ import annotations

import pytest

from outage_signals.catalog import CATEGORIES, OTHER_TOKEN, SERVICE_TOKEN, load_catalog
from outage_signals.errors import CatalogError, ConfigError


def test_packaged_catalog_is_broad(catalog):
    assert len(catalog) >= 60
    groups = catalog.by_category()
    assert set(groups) == set(CATEGORIES)
    assert all(len(members) >= 3 for members in groups.values())
    assert catalog.get("chatgpt").status_page == "https://status.openai.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is ChatGPT down?", ["chatgpt"]),
        ("chatgpt and discord both broken", ["chatgpt"]),  # lowercase discord is a word
        ("ChatGPT and Discord both broken", ["chatgpt", "discord"]),
        ("is chat gpt down for anyone", ["chatgpt"]),
        ("we need to chase this down", []),
        ("Chase app is down again", ["chase"]),
        ("the teams played well", []),
        ("microsoft teams down", ["teams"]),
        ("downloading chatgptapp.exe", []),  # inside a longer word
        ("#chatgpt down", ["chatgpt"]),
        ("Disney+ not loading", ["disney-plus"]),
        ("nothing to see here", []),
    ],
)
def test_alias_matching(catalog, text, expected):
    assert catalog.match(text) == expected


def test_mask_marks_target_and_other_services(catalog):
    text = "Discord is down so I'm on ChatGPT"
    assert catalog.mask(text, "chatgpt").split() == [OTHER_TOKEN, "is", "down", "so", "I'm", "on",
                                                    SERVICE_TOKEN]
    assert catalog.mask(text, "discord").split()[0] == SERVICE_TOKEN


def test_user_config_adds_and_overrides(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(
        '[services.acmebank]\nname = "Acme Bank"\ncategory = "finance"\naliases = ["acmebank"]\n'
        '[services.chatgpt]\naliases = ["chatgpt", "gippity"]\n')
    monkeypatch.setenv("OUTAGE_SIGNALS_CONFIG", str(config))
    catalog = load_catalog()
    assert catalog.match("acmebank login broken") == ["acmebank"]
    assert catalog.match("gippity is down") == ["chatgpt"]
    assert catalog.get("chatgpt").name == "ChatGPT"  # fields not overridden are kept


def test_bad_user_config_is_reported(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[services.acme]\nname = "Acme"\ncategory = "bakery"\n')
    with pytest.raises(CatalogError, match=r"\[services.acme\]: 'category' must be one of"):
        load_catalog(origin=str(config), config={"services": {"acme": {"name": "Acme",
                                                                       "category": "bakery"}}})
    config.write_text("[services\n")
    monkeypatch.setenv("OUTAGE_SIGNALS_CONFIG", str(config))
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_catalog()


def test_unknown_service_suggests(catalog):
    with pytest.raises(CatalogError, match="did you mean 'chatgpt'"):
        catalog.get("chatgtp")
