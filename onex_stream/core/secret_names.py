"""Secret-looking names and URL credentials: the one rule for lint, logs and HTTP headers."""

from __future__ import annotations

import re

#: A name (config key, header name, log key) containing one of these words is secret-looking:
#: password/passwd, secret, token, api_key/private_key, credentials, Authorization, Cookie...
SECRET_WORDS = ("auth", "cookie", "credential", "key", "passw", "secret", "session", "token")
#: Search it (case-insensitive): ``SECRET_NAME.search(name)`` finds a secret word in ``name``.
SECRET_NAME = re.compile("|".join(SECRET_WORDS), re.IGNORECASE)
# scheme://userinfo@ (the scheme's name may be missing); userinfo is user[:password]
_URL_USERINFO = re.compile(r"(?P<scheme>(?:[a-zA-Z][a-zA-Z0-9+.-]*)?://)(?P<userinfo>[^/\s@]+)@")


def is_secret_name(name: str) -> bool:
    """Whether ``name`` contains a secret word (``SECRET_NAME``)."""
    return SECRET_NAME.search(name) is not None


def mask_url_credentials(text: str) -> str:
    """``text`` with the userinfo of every URL (``scheme://user:pass@``) replaced by ``***``."""
    return _URL_USERINFO.sub(r"\g<scheme>***@", text)


def url_passwords(text: str) -> list[str]:
    """The passwords written in the userinfo of URLs in ``text`` (``user:password@``)."""
    passwords = []
    for match in _URL_USERINFO.finditer(text):
        _, colon, password = match["userinfo"].partition(":")
        if colon and password:
            passwords.append(password)
    return passwords
