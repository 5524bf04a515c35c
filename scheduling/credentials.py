"""Secrets the worker needs back (the CalDAV password), encrypted at rest with Fernet.

The key is derived with HKDF-SHA256 from DJANGO_CREDENTIALS_KEY when set, else from SECRET_KEY, with
a fixed context string, so the Fernet key is never the secret itself. Older keys still decrypt
(MultiFernet): DJANGO_CREDENTIALS_KEY_FALLBACKS, SECRET_KEY_FALLBACKS, and SECRET_KEY itself while
DJANGO_CREDENTIALS_KEY is newly introduced. Rotating a key: move the old one into a fallback
setting; each successful sync re-encrypts with the current key (`secret_needs_rotation`).
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Changing this string makes every stored secret unreadable: it is part of the key.
_CONTEXT = b"jobcenter.scheduling.credentials.v1"


class SecretUnreadableError(Exception):
    """No configured key decrypts the stored secret (a key was replaced without fallback)."""


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_CONTEXT).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


@functools.lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    return MultiFernet([_derive(key) for key in keys]), _derive(keys[0])


def _keys() -> tuple[MultiFernet, Fernet]:
    """(all keys, current key), from the settings at call time (override_settings works)."""
    primary = getattr(settings, "CREDENTIALS_KEY", "") or settings.SECRET_KEY
    candidates = [
        primary,
        *getattr(settings, "CREDENTIALS_KEY_FALLBACKS", []),
        settings.SECRET_KEY,
        *getattr(settings, "SECRET_KEY_FALLBACKS", []),
    ]
    ordered = tuple(dict.fromkeys(secret for secret in candidates if secret))
    return _fernets(ordered)


def secret_encrypt(plain: str) -> str:
    """The Fernet token of `plain` (text); "" stays "" (nothing stored)."""
    if not plain:
        return ""
    return _keys()[1].encrypt(plain.encode()).decode("ascii")


def secret_decrypt(token: str) -> str:
    """The plain text of a token; "" for ""; SecretUnreadableError when no key decrypts it."""
    if not token:
        return ""
    try:
        return _keys()[0].decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as error:
        raise SecretUnreadableError from error


def secret_needs_rotation(token: str) -> bool:
    """True when the token decrypts only with an old key (re-encrypt it with the current one)."""
    if not token:
        return False
    try:
        _keys()[1].decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return True
    return False
