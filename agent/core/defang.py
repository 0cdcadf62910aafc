"""Addresses in prose made inert: ``evil.example/phish`` becomes ``evil[.]example/phish``.

Mail clients and chat apps turn anything that looks like a link into one: a URL, ``www.x``,
a domain with a path (``bit.ly/3xYz``), a bare domain with a well-known top-level domain
(``evil.com``), an IP address (``203.0.113.5/x``) and an email address. Prose the model (or
the offline engine) writes must not carry such links: `find_address` says whether a text holds
one (validation re-asks the model), `defang` rewrites every one so no client can link it
(``[.]``, ``[@]``, ``[:]//``), as security reports quote indicators.
"""

from __future__ import annotations

import re

# Top-level domains a client links without a path: the generic ones, the reserved names, and
# country codes used as link shorteners or common in addresses.
_TLD_WORDS = (
    "com org net edu gov mil int info biz name pro mobi xyz top site online app dev page "
    "link click live club shop store tech cloud blog news email zip mov "
    "example test invalid localhost local onion internal lan home corp "
    "io ai co ly me tv gg sh to cc ws la fm am im is it de uk ru cn jp fr nl eu us ca au "
    "in br es ch se no pl be at dk fi cz kr tw hk sg nz za mx ar cl tk ml ga cf gq su"
)
TLDS = frozenset(_TLD_WORDS.split())
_DOT = r"[.\u3002\uff0e\uff61]"  # the dot, and the ideographic and fullwidth dots
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SCHEME_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://[^\s<>\"]*", re.IGNORECASE)
_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]{{1,64}}@{_LABEL}(?:{_DOT}{_LABEL})+", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w])")
# An "@" between the parts of an address: neutralised on its own, so that a chain of them
# ("a@b.co@c.co") is inert after one pass; the domain pass then breaks the dots.
_AT = re.compile(r"(?<=[\w.+-])@(?=[\w-])")
_WWW = re.compile(rf"\bwww{_DOT}\S+", re.IGNORECASE)
# A domain candidate: a whole run of dot-separated labels (matched in one pass, no
# backtracking). It is an address when its last label is a known TLD, or a path or a port
# follows it (`_is_domain`).
_DOMAIN = re.compile(rf"(?<![\w@.-])[a-z0-9-]+(?:{_DOT}[a-z0-9-]+)+", re.IGNORECASE)
_LAST_LABEL = re.compile(rf"(?:^|{_DOT})([a-z0-9-]+)$", re.IGNORECASE)
_PATH_AFTER = re.compile(r"[/:]\w")


def _is_domain(match: re.Match[str]) -> bool:
    last = _LAST_LABEL.search(match.group(0))
    tld = last.group(1).lower() if last else ""
    if not tld or tld.isdigit():
        return False
    return (
        tld in TLDS or tld.startswith("xn--") or bool(_PATH_AFTER.match(match.string, match.end()))
    )


_PLAIN = (_SCHEME_URL, _EMAIL, _IPV4, _WWW)


def find_address(text: str) -> str | None:
    """The first URL, domain, IP or email address in `text` a client would link, else None."""
    found = [m for m in (p.search(text) for p in _PLAIN) if m is not None]
    domain = next((m for m in _DOMAIN.finditer(text) if _is_domain(m)), None)
    if domain is not None:
        found.append(domain)
    return min(found, key=lambda m: m.start()).group(0) if found else None


def _inert(text: str) -> str:
    text = re.sub(_DOT, "[.]", text)
    return text.replace("@", "[@]").replace("://", "[:]//")


def defang(text: str, *, drop_urls: bool = False) -> str:
    """`text` with every address made inert (dots as ``[.]``, ``@`` as ``[@]``); with
    `drop_urls`, URLs with a scheme and ``www.`` ones are removed instead. Text without an
    address comes back unchanged."""
    if not text:
        return text
    for pattern in (_SCHEME_URL, _WWW, _IPV4):
        if drop_urls and pattern is not _IPV4:
            text = pattern.sub(" ", text)
        else:
            text = pattern.sub(lambda m: _inert(m.group(0)), text)
    text = _AT.sub("[@]", text)
    return _DOMAIN.sub(lambda m: _inert(m.group(0)) if _is_domain(m) else m.group(0), text)


__all__ = ["TLDS", "defang", "find_address"]
