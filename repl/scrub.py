"""The one place that hides the auth token in text we show or log."""

from __future__ import annotations


def scrub(text: str, token: str | None) -> str:
    """``text`` with every occurrence of ``token`` replaced by ``<token>``."""
    return text.replace(token, "<token>") if token else text
