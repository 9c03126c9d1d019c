"""The unified social credit code (统一社会信用代码, GB 32100-2015) and its check character."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3**i mod 31
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The 18th character for the first 17: c = 31 − (Σ wᵢvᵢ mod 31), and 31 becomes 0."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("needs 17 characters from 0-9 and A-Y without I, O, S, V, Z")
    c = 31 - sum(w * _VALUE[ch] for w, ch in zip(WEIGHTS, first17)) % 31
    return ALPHABET[0 if c == 31 else c]


def validate_uscc(code: object) -> str:
    """The code in upper case, or ValueError naming the rule it breaks."""
    if not isinstance(code, str):
        raise ValueError(f"must be text of 18 characters, got {type(code).__name__} / 统一社会信用代码须为18位文本")
    text = code.strip().upper()
    if len(text) != 18:
        raise ValueError(f"must have 18 characters, got {len(text)} / 统一社会信用代码须为18位")
    bad = sorted({ch for ch in text if ch not in _VALUE})
    if bad:
        raise ValueError(f"has characters outside GB 32100-2015's set: {''.join(bad)} / 含非法字符")
    expected = check_character(text[:17])
    if text[17] != expected:
        raise ValueError(f"check character is {text[17]}, GB 32100-2015 gives {expected} / 校验码错误")
    return text
