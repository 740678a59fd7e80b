"""Database URLs without secrets in them: refuse a literal one, expand ``${VAR}``, redact every part.

A review writes its parameters into the executed notebooks, and a command line is visible to other users of
the machine, so a password or token must not be written into the URL itself: it comes from the environment
through a ``${VARIABLE}`` placeholder, expanded only when the connection is opened.

* :func:`literal_secrets` finds every password or token written into a URL: the password of the user-info
  part (``user:PASSWORD@host``), any ``key=value`` whose key names a secret (:data:`SECRET_KEY`:
  ``password=``, ``pwd=``, ``token=``, ``secret=``, ``sslpassword=``, ``api_key=`` ...) anywhere after the host,
  percent-encoded or not (``odbc_connect=...%3BPWD%3D...``), and a ``#fragment`` (no database uses one).
  Only a value that is exactly one ``${NAME}`` placeholder is accepted.
* :func:`expand_env` expands the placeholders, percent-encoding a value inside the user-info part or the
  query string, so a secret may hold ``@ : / ? # & %`` without changing where the URL splits.
* :func:`redact_url` replaces every such value by ``***``; :func:`scrub` removes known secret values (raw,
  percent-encoded, form-encoded) from any text, such as a driver's error message.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote, quote_plus, unquote_plus

__all__ = [
    "SECRET_KEY",
    "SecretInUrlError",
    "check_url_secrets",
    "expand_env",
    "literal_secrets",
    "redact_url",
    "scrub",
]

#: A key whose value is a secret (searched in the key, case-insensitive): ``password``, ``sslpassword``,
#: ``pwd``, ``passwd``, ``token``, ``access_token``, ``secret``, ``client_secret``, ``api_key``, ``apikey``,
#: ``private_key``, ``access_key``, ``credentials_base64`` ...
SECRET_KEY = re.compile(r"pass|pwd|token|secret|api_?key|private_?key|access_?key|auth_?key|credentials_base64",
                        re.IGNORECASE)
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_ONLY_PLACEHOLDER = re.compile(r"\s*\$\{\w+\}\s*")
# scheme://[user[:password]@] as SQLAlchemy reads it (a password runs to the first "@" after the ":")
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][\w+.-]*://(?P<user>[^:/]*):)(?P<password>[^@]*)(?P<at>@)")
_USERINFO_GREEDY = re.compile(r"^(?P<user>[^:/@]*):(?P<password>.*)(?P<at>@)")
_SCHEME = re.compile(r"^[A-Za-z][\w+.-]*://")
# key=value after the host; "=" and the separators may be percent-encoded (a connection string in a parameter)
_PAIR = re.compile(
    r"(?P<key>[A-Za-z_][\w.-]*)(?P<eq>\s*(?:=|%3[dD])\s*)(?P<value>(?:(?!%26|%3[bB]|%23)[^&;#\s])*)"
)


class SecretInUrlError(ValueError):
    """A database URL holds a password or token written out instead of a ``${VARIABLE}`` placeholder."""


def _rest_start(url: str) -> int:
    """Where the URL continues after ``scheme://user:password@`` (or after ``scheme://``)."""
    m = _USERINFO.match(url)
    if m is not None:
        return m.end()
    s = _SCHEME.match(url)
    return s.end() if s else 0


def literal_secrets(url: str) -> list[str]:
    """Where ``url`` holds a password or token written out: ``["the user-info part", "password=", ...]``.

    A value that is exactly one ``${NAME}`` placeholder is not a literal secret; an empty value is none.
    """
    found: list[str] = []
    m = _USERINFO.match(url)
    if m is not None and m.group("password") and not _ONLY_PLACEHOLDER.fullmatch(m.group("password")):
        found.append("the user-info part (user:password@)")
    rest = url[_rest_start(url):]
    for pair in _PAIR.finditer(unquote_plus(rest)):
        key, value = pair.group("key"), pair.group("value")
        if SECRET_KEY.search(key) and value and not _ONLY_PLACEHOLDER.fullmatch(value):
            label = f"{key}="
            if label not in found:
                found.append(label)
    if "#" in rest:
        found.append("the #fragment")
    return found


def check_url_secrets(url: str) -> str:
    """``url`` when no password or token is written into it; else :class:`SecretInUrlError`.

    The message names where the secret is and never shows it (the URL in it is :func:`redact_url`'s).
    """
    where = literal_secrets(url)
    if where:
        raise SecretInUrlError(
            f"the data URL {redact_url(url)} carries a password or token in {', '.join(where)}; the review "
            "writes its parameters into the executed notebooks and a command line is visible to other users, "
            "so put the value in an environment variable and write ${VARIABLE} in its place "
            "(e.g. postgresql://analyst:${PGPASSWORD}@host/crm or postgresql://analyst@host/crm?"
            "sslpassword=${KEY_PASSPHRASE}); a database URL has no #fragment"
        )
    return url


def expand_env(url: str, environ: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Expand every ``${VAR}`` of a database URL from the environment.

    Returns the URL and the expanded values (to :func:`scrub` from any message). A value inside the user-info
    part or the query string is percent-encoded (``quote(value, safe="")``), so ``@``, ``:``, ``/``, ``?``,
    ``#``, ``&`` or ``%`` in a password stay inside it; elsewhere (host, database name) it is inserted as is.

    Raises
    ------
    KeyError
        Naming the first variable that is not set.
    """
    env = os.environ if environ is None else environ
    values: list[str] = []
    m = _USERINFO.match(url)
    userinfo_end = m.end() if m is not None else -1
    query_start = url.find("?", _rest_start(url))

    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise KeyError(name)
        value = env[name]
        values.append(value)
        encode = match.start() < userinfo_end or (query_start >= 0 and match.start() > query_start)
        return quote(value, safe="") if encode else value

    return PLACEHOLDER.sub(expand, url), values


def redact_url(url: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """``url`` with every password or token replaced by ``***``, for messages and reports.

    Covers the user-info password, the value of every secret-named ``key=value`` after the host (placeholders
    included), a ``#fragment``, and any of ``secrets`` (expanded values) wherever they appear.
    """
    text = scrub(url, secrets)
    scheme = _SCHEME.match(text)
    head, rest = (text[: scheme.end()], text[scheme.end():]) if scheme else ("", text)

    def hide(pair: re.Match[str]) -> str:
        if SECRET_KEY.search(unquote_plus(pair.group("key"))) and pair.group("value"):
            return pair.group("key") + pair.group("eq") + "***"
        return pair.group(0)

    rest = _PAIR.sub(hide, rest)
    m = _USERINFO_GREEDY.match(rest)  # to the last "@": a password with "/" or "@" in it is hidden whole
    if m is not None and m.group("password"):
        rest = m.group("user") + ":***" + rest[m.start("at"):]
    hash_at = rest.find("#")
    if hash_at >= 0:
        rest = rest[:hash_at] + "#***"
    return head + rest


def scrub(text: str, secrets: list[str] | tuple[str, ...]) -> str:
    """``text`` with every secret, as given, percent-encoded or form-encoded, replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret), quote_plus(secret))):
            text = text.replace(form, "***")
    return text
