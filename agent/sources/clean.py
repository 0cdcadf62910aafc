"""Turn abstract and title text with LaTeX residue and HTML entities into clean plain text."""

from __future__ import annotations

import html
import re
import unicodedata

_ACCENTS = {
    '"': "\u0308",  # diaeresis: Nystr\"{o}m -> Nyström
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
}
_LETTER_MACROS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
}
_SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "times": "×",
    "cdot": "·",
    "pm": "±",
    "mp": "∓",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "neq": "≠",
    "ne": "≠",
    "approx": "≈",
    "sim": "~",
    "simeq": "≃",
    "infty": "∞",
    "rightarrow": "→",
    "Rightarrow": "⇒",
    "to": "→",
    "leftarrow": "←",
    "Leftarrow": "⇐",
    "leftrightarrow": "↔",
    "in": "∈",
    "notin": "∉",
    "subset": "⊂",
    "subseteq": "⊆",
    "sum": "Σ",
    "prod": "Π",
    "partial": "∂",
    "nabla": "∇",
    "sqrt": "√",
    "ell": "ℓ",
    "log": "log",
    "exp": "exp",
    "max": "max",
    "min": "min",
    "ldots": "…",
    "dots": "…",
    "cdots": "…",
    "dag": "†",
    "ddag": "‡",
    "S": "§",
    "textasciitilde": "~",
    "quad": " ",
    "qquad": " ",
    "left": "",
    "right": "",
    "big": "",
    "Big": "",
    "bigl": "",
    "bigr": "",
    "displaystyle": "",
    "mathrm": "",
    "mathbf": "",
    "mathit": "",
    "mathcal": "",
    "mathbb": "",
}
# Unknown macros that name a well-known thing get its usual spelling; the rest lose the backslash.
_KNOWN_NAMES = {"squad": "SQuAD", "latex": "LaTeX", "tex": "TeX", "bert": "BERT"}
_STYLE_COMMANDS = (
    "emph|textbf|textit|texttt|textsc|textrm|textsf|text|mathrm|mathbf|mathit|mathcal|"
    "mathbb|mathsf|mathtt|operatorname|underline|url|mbox|hbox|boldsymbol"
)
_DROP_COMMANDS = "cite|citep|citet|ref|eqref|label|footnote|thanks"

_ACCENT_RE = re.compile(r"\{?\\([\"'`^~=.])\s*\{?\s*\\?([A-Za-z])\s*\}?\}?")
_LETTER_ACCENT_RE = re.compile(r"\{?\\([uvHck])(?:\{\\?([A-Za-z])\}|\s+([A-Za-z])(?![A-Za-z]))\}?")
_LETTER_RE = re.compile(r"\{?\\(ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i)(?![A-Za-z])\s*\}?")
_STYLE_GROUP_RE = re.compile(r"\{\\(?:em|bf|it|tt|sc|rm|sf|sl|small|large|Large)\s+([^{}]*)\}")
_STYLE_CMD_RE = re.compile(rf"\\(?:{_STYLE_COMMANDS})\s*\{{([^{{}}]*)\}}")
# The optional [...] argument is bounded: unbounded, each "\cite[" without a "]" scanned to
# the end of the text (quadratic: 50,000 of them took 24 s).
_DROP_CMD_RE = re.compile(rf"~?\\(?:{_DROP_COMMANDS})\s*(?:\[[^\]]{{0,200}}\])?\{{[^{{}}]*\}}")
_ESCAPED_CHAR_RE = re.compile(r"\\([%&_#${}])")
_ESCAPED_DOLLAR_DIGIT_RE = re.compile(r"\\(?=\d)")  # "\800" is an escaped "$800" that lost its $
_INLINE_MATH_RE = re.compile(r"(?<!\\)\$([^$]{1,200})\$")
_MACRO_RE = re.compile(r"\\([A-Za-z]+)")
_GLUED_ARROW_RE = re.compile(
    r"(?<=[a-z])(Rightarrow|rightarrow|Leftrightarrow|leftrightarrow)(?=[A-Z])"
)
_GLUED_TIMES_RE = re.compile(r"(?<=\d)times(?:\b|(?=[A-Z]))")  # "4times" was "4$\times$"
_TIMES_BEFORE_WORD_RE = re.compile(r"×(?=[A-Za-z])")
_BARE_SYMBOL_RE = re.compile(
    r"\{(varepsilon|epsilon|delta|alpha|beta|gamma|lambda|sigma|theta)(\^?[^{}]*)\}"
)
_LEFT_RIGHT_RE = re.compile(r"(?:left|right)(?=[()\[\]|])")
_TIE_RE = re.compile(r"(?<=\w)~(?=[\w(\[])")
_SPACE_RE = re.compile(r"\s+")
# A numeric character reference longer than any code point: html.unescape would convert its
# digits to an integer (400,000 of them took seconds); it can only be garbage.
_LONG_ENTITY_RE = re.compile(r"&#(?:[xX][0-9a-fA-F]{9,}|[0-9]{9,});?")


def _accent(match: re.Match[str]) -> str:
    letter = next(group for group in match.groups()[1:] if group)
    return unicodedata.normalize("NFC", letter + _ACCENTS[match.group(1)])


def _macro(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    if name.lower() in _KNOWN_NAMES:
        return _KNOWN_NAMES[name.lower()]
    return name


def _math(match: re.Match[str]) -> str:
    inner = _MACRO_RE.sub(_macro, match.group(1))
    inner = re.sub(r"\^\{([^{}]*)\}", r"^\1", inner)
    inner = re.sub(r"_\{([^{}]*)\}", r"_\1", inner)
    return inner.replace("{", "").replace("}", "")


def _strip_braces(text: str) -> str:
    """Drop every brace pair that holds no backslash (at any depth): ``{{BERT}}`` -> ``BERT``,
    while ``{\\x}`` and unmatched braces stay. One pass with a stack: linear however deep the
    nesting (a regex applied until nothing changes took minutes on 100,000 nested braces)."""
    if "{" not in text:
        return text
    keep = bytearray(b"\x01") * len(text)
    opened: list[int] = []  # positions of the open braces
    tainted: list[bool] = []  # whether each open group holds a backslash or a kept group
    for i, char in enumerate(text):
        if char == "{":
            opened.append(i)
            tainted.append(False)
        elif char == "}" and opened:
            start, dirty = opened.pop(), tainted.pop()
            if dirty:
                if tainted:
                    tainted[-1] = True
            else:
                keep[start] = keep[i] = 0
        elif char == "\\" and tainted:
            tainted[-1] = True
    return "".join(char for char, kept in zip(text, keep, strict=True) if kept)


# Text with none of these has nothing for the LaTeX and HTML passes below to change (the
# word-like patterns are the passes' own), so it only needs NFC and folded whitespace.
_TRIGGER_RE = re.compile(
    r"[&\\{}$~×`]|''|--|"
    + "|".join(p.pattern for p in (_GLUED_ARROW_RE, _GLUED_TIMES_RE, _LEFT_RIGHT_RE))
)


MAX_INPUT_CHARS = 500_000  # no title or abstract is this long: longer text is cut first


def clean_text(text: str | None) -> str:
    """Clean one title or abstract: LaTeX escapes and macros, HTML entities, folded whitespace.
    Linear in the text, which is cut at MAX_INPUT_CHARS first."""
    if not text:
        return ""
    text = text[:MAX_INPUT_CHARS]
    if not _TRIGGER_RE.search(text):  # fast path: most strings have no LaTeX and no HTML
        return _SPACE_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    out = html.unescape(_LONG_ENTITY_RE.sub("\ufffd", text))
    out = out.replace("``", "\u201c").replace("''", "\u201d")
    out = _DROP_CMD_RE.sub("", out)
    out = _ACCENT_RE.sub(_accent, out)
    out = _LETTER_ACCENT_RE.sub(_accent, out)
    out = _LETTER_RE.sub(lambda m: _LETTER_MACROS[m.group(1)], out)
    out = _DROP_CMD_RE.sub("", out)
    for _ in range(3):  # nested styles such as \textbf{\emph{x}}
        out = _STYLE_GROUP_RE.sub(r"\1", out)
        out = _STYLE_CMD_RE.sub(r"\1", out)
    out = _INLINE_MATH_RE.sub(_math, out)
    out = _ESCAPED_CHAR_RE.sub(r"\1", out)
    out = _ESCAPED_DOLLAR_DIGIT_RE.sub("$", out)
    out = out.replace("\\\\", " ").replace("\\|", "\u2016")
    out = _MACRO_RE.sub(_macro, out)
    out = _GLUED_ARROW_RE.sub("\u2192", out)
    out = _TIMES_BEFORE_WORD_RE.sub("× ", _GLUED_TIMES_RE.sub("×", out))
    out = _BARE_SYMBOL_RE.sub(lambda m: _SYMBOLS[m.group(1)] + m.group(2), out)
    out = _LEFT_RIGHT_RE.sub("", out)
    out = _TIE_RE.sub(" ", out)
    out = _strip_braces(out)
    out = out.replace("--", "\u2013") if " -- " in out else out
    out = unicodedata.normalize("NFC", out)
    return _SPACE_RE.sub(" ", out).strip()
