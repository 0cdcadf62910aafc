"""The reader's language (`[llm] language`): a code or a name, turned into a name for prompts."""

from __future__ import annotations

import re

# Codes people type most; any other value is taken as the language's own name.
_NAMES = {
    "ar": "Arabic", "bn": "Bengali", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "no": "Norwegian",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sv": "Swedish",
    "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese",
    "zh": "Chinese (simplified)", "zh-cn": "Chinese (simplified)", "zh-hans": "Chinese (simplified)",
    "zh-tw": "Chinese (traditional)", "zh-hant": "Chinese (traditional)",
}  # fmt: skip
_VALID = re.compile(r"^[^\W\d_][\w\s()\-]{0,39}$")
ENGLISH = "English"


def language_name(value: str | None) -> str:
    """'zh' -> 'Chinese (simplified)', 'de' -> 'German', 'Deutsch' -> 'Deutsch', '' -> English.

    Raises ValueError for text that is not a plausible language name (it goes into prompts).
    """
    text = " ".join((value or "").split())
    if not text:
        return ENGLISH
    if not _VALID.match(text):
        raise ValueError(f"not a language name or code: {text[:40]!r}")
    return _NAMES.get(text.lower().replace("_", "-"), text)
