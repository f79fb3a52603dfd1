"""System checks of the directory configuration (``manage.py check``; the deploy check also
refuses passwords travelling in clear to a directory on another machine)."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from gongkai.accounts.directory_config import configured, problems

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


@register(Tags.compatibility)
def directory_configuration(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not configured():
        return []
    found: list[CheckMessage] = [
        Error(problem, id="gongkai.accounts.E001") for problem in problems()
    ]
    if find_spec("django_auth_ldap") is None:
        found.append(
            Error(
                "AUTH_LDAP_SERVER_URI is set but django-auth-ldap is not installed",
                hint="pip install -e '.[directory]' (python-ldap needs libldap2-dev, libsasl2-dev)",
                id="gongkai.accounts.E002",
            )
        )
    return found


@register(Tags.security, deploy=True)
def directory_in_clear(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not configured():
        return []
    uri = settings.AUTH_LDAP_SERVER_URI
    in_clear = [
        part
        for part in uri.split()
        if urlparse(part).scheme == "ldap" and (urlparse(part).hostname or "") not in LOCAL_HOSTS
    ]
    if in_clear and not settings.AUTH_LDAP_START_TLS:
        return [
            Warning(
                "Directory passwords would travel in clear to " + ", ".join(in_clear),
                hint="Use ldaps:// or set AUTH_LDAP_START_TLS=1 (and AUTH_LDAP_CA_FILE).",
                id="gongkai.accounts.W001",
            )
        ]
    return []
