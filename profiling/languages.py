"""The ISO 639-1 language codes (two letters) a profile may record for the customer's languages."""

from django.utils.translation import get_language_info

# Kept as a block of text, in the order of the standard, so it reads like its table.
_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da
    de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy
    hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg
    li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or
    os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta
    te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1: frozenset[str] = frozenset(_CODES.split())


def language_name(code: str) -> str:
    """The language's name in the user's language where Django knows it, else the ISO code."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def language_choices() -> list[tuple[str, str]]:
    """(code, "Name (code)") for every ISO 639-1 code except German: named languages first, by
    name, then the codes Django has no name for."""
    named, unnamed = [], []
    for code in ISO_639_1 - {"de"}:
        name = language_name(code)
        if name == code:
            unnamed.append((code, code))
        else:
            named.append((code, f"{name} ({code})"))
    return sorted(named, key=lambda item: item[1].casefold()) + sorted(unnamed)
