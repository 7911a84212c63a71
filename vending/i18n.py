"""Customer text in English, Somali and Swahili: one registry, filled by each channel's catalogue.

Each module that talks to customers registers its messages once at import:

    register({"en": {"buy.title": "Buy electricity"}, "so": {...}, "sw": {...}})

and renders them with `render("buy.title", lang, **values)`. A key missing in one language falls
back to English, so a half-translated catalogue never shows a customer a blank screen; a test per
catalogue checks every key exists in every language anyway.
"""

from collections.abc import Mapping

LANGUAGES = ("en", "so", "sw")
DEFAULT_LANGUAGE = "en"

_CATALOGUE: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    for lang, entries in messages.items():
        if lang not in _CATALOGUE:
            raise ValueError(f"unknown language {lang!r}")
        clashes = set(entries) & set(_CATALOGUE[lang])
        if clashes:
            raise ValueError(f"message keys registered twice: {sorted(clashes)}")
        _CATALOGUE[lang].update(entries)


def normalise_language(lang: str | None) -> str:
    return lang if lang in _CATALOGUE else DEFAULT_LANGUAGE


def render(key: str, lang: str | None = None, /, **values: object) -> str:
    lang = normalise_language(lang)
    template = _CATALOGUE[lang].get(key) or _CATALOGUE[DEFAULT_LANGUAGE][key]
    return template.format(**values) if values else template


def keys(lang: str = DEFAULT_LANGUAGE) -> frozenset[str]:
    return frozenset(_CATALOGUE[lang])


def missing_translations() -> dict[str, list[str]]:
    """Keys present in English but absent in another language."""
    english = set(_CATALOGUE[DEFAULT_LANGUAGE])
    return {lang: sorted(english - set(entries)) for lang, entries in _CATALOGUE.items() if english - set(entries)}
