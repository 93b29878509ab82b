"""Text normalisation and word segmentation shared by training and prediction.

The classifier is trained on historical messages that may arrive already segmented (words
separated by spaces, punctuation and stop words removed) and is then asked about raw text
typed by an agent or a citizen. Both sides go through `normalise_tokens` so that the model
sees the same kind of token stream whichever form the text came in. The words are cut and the
stop words listed by ``hotline.core.segmentation`` (jieba's own dictionary, see ``plain_cut``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from hotline.core import segmentation
from hotline.core.segmentation import STOP_WORDS

_ANONYMISED_PLACE = re.compile(r"^[a-z]{1,2}\d{1,3}$")
_DIGITS = re.compile(r"\d+")
# Everything but letters and digits (\w minus the underscore): punctuation, symbols, spaces.
_NON_WORD = re.compile(r"[\W_]+")


def clean_text(text: str) -> str:
    """Width-folded, lower-cased text with every run of non-word characters made one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    # Excel exports leave escaped carriage returns behind in the text.
    text = text.replace("_x000d_", " ").replace("x000d", " ")
    return _NON_WORD.sub(" ", text)


def normalise_tokens(tokens: Iterable[str]) -> list[str]:
    """Drop stop words and noise tokens from clean tokens; fold digits to one shape.

    Numbers only say "some quantity" or "some date" for category purposes: bare numbers are
    dropped and digits inside words fold to "0" ("3号楼" -> "0号楼"). Single Latin letters are
    usually fragments of anonymised place codes or list markers.
    """
    kept: list[str] = []
    for token in tokens:
        if token.isspace() or not token or token in STOP_WORDS:
            continue
        # "a1", "k10": anonymised district codes are locations, not topics.
        is_noise = len(token) == 1 or token.isdigit() or _ANONYMISED_PLACE.match(token)
        if token.isascii() and is_noise:
            continue
        if not token.isalpha():
            token = _DIGITS.sub("0", token.strip())
            if not token or token.isdigit():
                continue
        kept.append(token)
    return kept


def segment(text: str) -> list[str]:
    """Raw text -> normalised words."""
    return normalise_tokens(segmentation.plain_cut(clean_text(text)))


def split_tokens(tokens: str) -> list[str]:
    """Already segmented text ("word word word") -> normalised words."""
    return normalise_tokens(clean_text(tokens).split())
