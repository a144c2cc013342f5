"""Text as people see it: one folding for identity keys (accounts) and muted words (live).

`fold` maps strings that look the same to the same string: Unicode NFKC (fullwidth and other
compatibility forms become their plain letters), invisible characters removed (zero-width spaces
and joiners, soft hyphens, bidirectional marks, variation selectors: every format character and
the other default-ignorable code points), case-folded (ß is ss, dotless ı stays a letter of its
own), then every confusable letter mapped to its prototype with the Unicode Consortium's
confusables data (UTS #39) as shipped and updated by the `confusable_homoglyphs` package:
Cyrillic а is a, dotless ı is i, 0 is o, 1 and l and | are one letter, rn is m. The steps repeat
until nothing changes (a prototype can be a capital that folds again).

`fold_case` is NFKC and case-folding only: for email addresses, where two look-alike addresses
are two mailboxes (and ownership is proved by mail, not by looks).

Changing what these return changes stored keys: a migration must recompute them
(accounts/migrations/0003_backfill_identity_keys.py shows how, in batches).
"""

import functools
import unicodedata

from confusable_homoglyphs.confusables import confusables_data

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) beyond the format characters (Cf):
# combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation
# selectors, variation selectors and their supplement, tags.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0000, 0xE0FFF),
)
_BIDI_MARKS = "\u200e\u200f"  # the package writes right-to-left letters between these
_MAX_ROUNDS = 4


def is_invisible(char: str) -> bool:
    if unicodedata.category(char) == "Cf":
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def fold_case(text: str) -> str:
    """NFKC, invisible characters removed, case-folded."""
    return _visible(unicodedata.normalize("NFKC", text)).casefold()


def fold(text: str) -> str:
    """What the text looks like: `fold_case` and confusable letters mapped, to a fixed point."""
    for _ in range(_MAX_ROUNDS):
        folded = _skeleton(fold_case(text))
        if folded == text:
            break
        text = folded
    return text


def _visible(text: str) -> str:
    return "".join(char for char in text if not is_invisible(char))


def _skeleton(text: str) -> str:
    table = _prototypes()
    return "".join(table.get(char, char) for char in text)


@functools.cache
def _prototypes() -> dict[str, str]:
    """Each confusable character -> its prototype.

    The package keeps confusables.txt's pairs (source -> prototype) in both directions, so a
    character with several look-alikes is a prototype (sources have exactly one); one whose only
    look-alike is a sequence is a source (sources are single characters); a lone pair of single
    characters maps both to the same one of the two (ASCII first, then the lower code point), so
    either way round they fold alike."""
    graph = {_strip(key): [_strip(entry["c"]) for entry in entries] for key, entries in confusables_data.items()}
    table = {}
    for char, alikes in graph.items():
        if len(char) != 1 or len(alikes) != 1:
            continue
        (alike,) = alikes
        if len(alike) > 1 or len(graph.get(alike, ())) > 1:
            table[char] = alike
        else:
            prototype = min(char, alike, key=lambda c: (not c.isascii(), c))
            if prototype != char:
                table[char] = prototype
    return table


def _strip(text: str) -> str:
    return text.strip(_BIDI_MARKS)
