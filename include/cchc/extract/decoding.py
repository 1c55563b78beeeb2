"""From a response body's bytes to JSON values, without changing a value silently.

JSON is UTF-8 (RFC 8259). A body that is valid UTF-8 and holds no escaped surrogate takes the
fast path (msgspec). Otherwise the standard library decodes it keeping every fault visible:
invalid bytes become U+DC80..U+DCFF (`surrogateescape`), escaped lone surrogates stay lone,
so the loader can set aside exactly the records that hold one, each with its own reason,
instead of replacing characters or rejecting the whole page.

NFC normalisation (the one documented change of a value) applies to decoded text: the raw
text is normalised before decoding (cheap, and the same thing for unescaped text), and the
decoded values again when the body holds `\\u` escapes, which may spell decomposed text.
"""

from __future__ import annotations

import gc
import json
import threading
import unicodedata
from dataclasses import dataclass

import msgspec

_DECODING = threading.Lock()


@dataclass(frozen=True)
class DecodedBody:
    value: object
    text: str  # the body as text, for quarantine (invalid bytes as \udcXX)
    valid_utf8: bool
    # True when values may hold surrogates: the loader then checks each record for them.
    suspect_text: bool


class BodyDecodeError(ValueError):
    pass


def decode_body(content: bytes) -> DecodedBody:
    try:
        text, valid_utf8 = content.decode("utf-8"), True
    except UnicodeDecodeError:
        text, valid_utf8 = content.decode("utf-8", "surrogateescape"), False
    if valid_utf8 and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    escaped = "\\u" in text
    suspect = not valid_utf8 or (escaped and _escapes_a_surrogate(text))
    try:
        value = json.loads(text) if suspect else _fast_decode(text)
    except (msgspec.DecodeError, ValueError) as error:
        raise BodyDecodeError(f"{type(error).__name__}: {error}") from error
    if escaped or not valid_utf8:
        value = nfc(value)
    return DecodedBody(value, text, valid_utf8, suspect)


def _escapes_a_surrogate(text: str) -> bool:
    """A `\\uD800`..`\\uDFFF` escape somewhere (paired ones included: checked per record later)."""
    lowered = text.lower()
    return any(f"\\ud{c}" in lowered for c in "89abcdef")


def _fast_decode(text: str) -> object:
    """`msgspec.json.decode` with the cyclic garbage collector paused: otherwise it rescans the
    page's new objects (which form no cycles) as they are built, about half the decode time.
    The lock keeps threads from re-enabling it under each other; decoding holds the GIL anyway."""
    with _DECODING:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return msgspec.json.decode(text)
        finally:
            if enabled:
                gc.enable()


def nfc(value: object) -> object:
    """Every string of a decoded JSON value (keys too) in NFC."""
    if isinstance(value, str):
        return (
            value
            if unicodedata.is_normalized("NFC", value)
            else unicodedata.normalize("NFC", value)
        )
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    return value


def text_fault(value: object, valid_utf8: bool) -> str | None:
    """Why a decoded record cannot be stored as sent (invalid UTF-8, a lone surrogate), or None."""
    for text in _strings(value):
        for char in text:
            if "\ud800" <= char <= "\udfff":
                if not valid_utf8 and "\udc80" <= char <= "\udcff":
                    return f"invalid UTF-8 (byte 0x{ord(char) - 0xDC00:02X})"
                return f"lone UTF-16 surrogate (U+{ord(char):04X})"
    return None


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def printable(text: str) -> str:
    """Text PostgreSQL can store whatever it holds: surrogates and NUL as visible escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")
