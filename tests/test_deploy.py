"""The deployment recipes in deploy/: what an operator installs must work as the README says.

Fast and offline: the nginx site is checked by Debian's nginx (``nginx -t``) and then run on
loopback in front of a stand-in app server, so the headers the app trusts, the upload limit,
the hidden /media/, the unlogged /report/ and the retry rule are seen working, not read off
the file. The environment template is loaded into the production settings; the systemd units,
the gunicorn settings, the compose file and the Dockerfile are checked against the files they
name. Skipped with the reason where nginx or systemd-analyze are missing.
"""

from __future__ import annotations

import ast
import configparser
import datetime as dt
import http.client
import json
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gongkai.core.uploads import MULTIPART_OVERHEAD
from gongkai.publicity.services import MAX_EVIDENCE_FILES
from gongkai.reporting.services import EVIDENCE_MAX_BYTES, FILES_PER_SUBMISSION
from gongkai.voice.services import MAX_ATTACHMENTS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX_DIR = DEPLOY / "nginx"
SYSTEMD_DIR = DEPLOY / "systemd"
SETTINGS_FILES = [
    ROOT / "config" / "settings" / "base.py",
    ROOT / "config" / "settings" / "production.py",
]
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
ENV_TEMPLATE = DEPLOY / "gongkai.env.example"
INSTALL_DIR = "/opt/gongkai"  # where the units and the site expect the checkout
HOST = "gongkai.example.com"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
needs_nginx = pytest.mark.skipif(
    not os.access(NGINX, os.X_OK), reason="nginx is not installed (apt-get install nginx-light)"
)


# --- Which environment variables the code reads ---------------------------------------------


def environment_reads(path: Path, helpers: frozenset[str]) -> set[str]:
    """The names ``path`` reads from the environment: ``os.environ.get("X")``,
    ``os.environ["X"]``, ``os.getenv("X")`` and the module's own helpers (``env_bool("X", …)``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        first: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            called = ast.unparse(node.func)
            if called in helpers or called in {"os.environ.get", "os.getenv"}:
                first = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            first = node.slice
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def settings_reads() -> set[str]:
    names: set[str] = set()
    for path in SETTINGS_FILES:
        names |= environment_reads(path, frozenset({"env_bool", "env_list"}))
    return names


def gunicorn_reads() -> set[str]:
    return environment_reads(GUNICORN_CONF, frozenset({"_int"}))


# Read by Django itself (manage.py defaults to the demo settings), not by a settings file.
DJANGO_READS = {"DJANGO_SETTINGS_MODULE"}


@dataclass(frozen=True)
class EnvLine:
    name: str
    value: str
    commented: bool


def env_template() -> list[EnvLine]:
    lines = []
    for raw in ENV_TEMPLATE.read_text().splitlines():
        match = re.fullmatch(r"(#?)([A-Z][A-Z0-9_]*)=(.*)", raw.strip())
        if match:
            lines.append(EnvLine(match[2], match[3], commented=bool(match[1])))
    return lines


def test_env_template_lists_every_variable_production_reads_and_no_other() -> None:
    template = {line.name for line in env_template()}
    read = settings_reads()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CLIENT_ADDRESS_META"} <= read
    assert sorted(read - template) == [], "read by the settings, missing from the template"
    assert sorted(template - read - gunicorn_reads() - DJANGO_READS) == [], "read by nothing"


def test_env_template_names_each_variable_once() -> None:
    names = [line.name for line in env_template()]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_env_template_never_sets_the_port_the_web_unit_sets() -> None:
    """systemd lets an EnvironmentFile override the unit's Environment=: a GUNICORN_PORT or
    GUNICORN_BIND there would put every app server on one port."""
    live = {line.name for line in env_template() if not line.commented}
    assert not live & {"GUNICORN_PORT", "GUNICORN_BIND"}


def load_production(env: dict[str, str], names: list[str]) -> subprocess.CompletedProcess[str]:
    script = (
        "import importlib, json, sys\n"
        "s = importlib.import_module('config.settings.production')\n"
        "json.dump({n: getattr(s, n) for n in sys.argv[1:] if hasattr(s, n)}, sys.stdout,"
        " default=str)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_env_template_filled_in_starts_production_and_its_defaults_are_the_real_ones() -> None:
    lines = env_template()
    live = {line.name: line.value for line in lines if not line.commented}
    # As shipped, the placeholder secret is refused: nobody runs on it by mistake.
    shipped = load_production(live, [])
    assert shipped.returncode != 0
    assert "SECRET_KEY must be set" in shipped.stderr

    filled = {**live, "SECRET_KEY": "a-real-secret-" + "x" * 50}
    names = [line.name for line in lines]
    names += ["MEDIA_ROOT", "LEDGER_SIGNING_KEY_FILE", "LEDGER_WITNESS_KEY_FILE", "LIMITS_URL"]
    loaded = load_production(filled, names)
    assert loaded.returncode == 0, loaded.stderr
    values = json.loads(loaded.stdout)
    # The client's address comes from the header nginx overwrites, for both limits.
    assert values["CLIENT_ADDRESS_META"] == "HTTP_X_REAL_IP"
    assert values["REPORTING_CLIENT_ADDRESS_META"] == "HTTP_X_REAL_IP"
    assert values["LIMITS_URL"] == live["REDIS_URL"]
    # Uploads and keys land in the units' writable state directory, as the comments say.
    var = live["GONGKAI_VAR_DIR"]
    assert values["MEDIA_ROOT"] == f"{var}/media"
    assert values["LEDGER_SIGNING_KEY_FILE"] == f"{var}/ledger-signing.key"
    assert values["LEDGER_WITNESS_KEY_FILE"] == f"{var}/ledger-witness.key"
    documented = {line.name: line.value for line in lines if line.commented}
    for name in ("MEDIA_ROOT", "LEDGER_SIGNING_KEY_FILE", "LEDGER_WITNESS_KEY_FILE"):
        assert documented[name] == values[name]
    # Each commented number or switch is the default the settings really have.
    checked = 0
    for name, shown in documented.items():
        if name not in values or not re.fullmatch(r"\d+", shown):
            continue
        actual = values[name]
        if isinstance(actual, bool):
            assert actual == (shown == "1"), name
        else:
            assert float(actual) == float(shown), name
        checked += 1
    assert checked >= 30


# --- gunicorn -------------------------------------------------------------------------------


def gunicorn_config(**env: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import json, runpy, sys\n"
        "ns = runpy.run_path(sys.argv[1])\n"
        "print(json.dumps({k: v for k, v in ns.items() if k.islower() and not k.startswith('_')"
        " and isinstance(v, (str, int, float, list, type(None)))}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")}
    return subprocess.run(
        [sys.executable, "-c", script, str(GUNICORN_CONF)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_gunicorn_trusts_forwarded_headers_from_the_proxy_only() -> None:
    result = gunicorn_config()
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert conf["accesslog"] is None  # the app writes its own line, never an address
    assert conf["control_socket_disable"] is True  # two per host would share its one path
    assert conf["max_requests"] > 0 and conf["max_requests_jitter"] > 0
    assert conf["graceful_timeout"] < 45  # inside the units' TimeoutStopSec

    refused = gunicorn_config(GUNICORN_FORWARDED_ALLOW_IPS="10.0.0.5, *")
    assert refused.returncode != 0
    assert "not '*'" in refused.stderr


def test_gunicorn_settings_are_all_names_gunicorn_knows() -> None:
    """gunicorn ignores a misspelt setting in its config file without a word."""
    from gunicorn.config import KNOWN_SETTINGS

    known = {setting.name for setting in KNOWN_SETTINGS}
    conf = json.loads(gunicorn_config(GUNICORN_PORT="8002").stdout)
    assert conf["bind"] == ["127.0.0.1:8002"]  # the unit's instance name picks the port
    assert sorted(set(conf) - known - {"annotations"}) == []


# --- systemd --------------------------------------------------------------------------------


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as sections of key → values (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in (SYSTEMD_DIR / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"{name}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{name}: {line!r} is not key=value"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def in_checkout(path: str) -> Path:
    assert path.startswith(INSTALL_DIR + "/"), path
    return ROOT / path.removeprefix(INSTALL_DIR + "/")


SERVICES = [
    "gongkai-web@.service",
    "gongkai-worker@.service",
    "gongkai-migrate.service",
    "gongkai-backup.service",
]


@pytest.mark.parametrize("name", SERVICES)
def test_units_run_the_checkouts_venv_as_gongkai_with_hardening(name: str) -> None:
    service = unit(name)["Service"]
    assert service["User"] == ["gongkai"]
    assert service["EnvironmentFile"] == ["/etc/gongkai/gongkai.env"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
    }.items():
        assert service[key] == [value], key
    assert service["ReadWritePaths"]
    program, *args = service["ExecStart"][0].split()
    assert program.startswith(f"{INSTALL_DIR}/.venv/bin/")
    # Every file of the checkout it names exists (manage.py, deploy/gunicorn.conf.py).
    for arg in args:
        if arg.startswith(INSTALL_DIR):
            assert in_checkout(arg).is_file(), arg


def test_web_and_workers_restart_on_failure_and_write_only_the_state_directory() -> None:
    web = unit("gongkai-web@.service")["Service"]
    worker = unit("gongkai-worker@.service")["Service"]
    for service in (web, worker):
        assert service["Restart"] == ["on-failure"]
        assert service["ReadWritePaths"] == ["/var/lib/gongkai"]
    assert "--config /opt/gongkai/deploy/gunicorn.conf.py" in web["ExecStart"][0]
    assert web["Environment"] == [
        "GUNICORN_PORT=%i",
        "PROMETHEUS_MULTIPROC_DIR=/run/gongkai-metrics/%i",
    ]
    # Each app server's request metrics in a directory of its own, empty at each start.
    assert web["RuntimeDirectory"] == ["gongkai-metrics/%i"]
    assert web["ExecStart"][0].split()[0].endswith("/gunicorn")
    assert worker["ExecStart"][0].endswith("manage.py run_huey")
    assert worker["KillSignal"] == ["SIGINT"]  # Huey's graceful stop
    # The env template's state directory is the one the units may write.
    live = {line.name: line.value for line in env_template() if not line.commented}
    assert live["GONGKAI_VAR_DIR"] == "/var/lib/gongkai"


def test_nginx_upstream_lists_the_app_servers_the_web_unit_starts() -> None:
    header = (SYSTEMD_DIR / "gongkai-web@.service").read_text()
    instances = set(re.findall(r"gongkai-web@(\d+)", header))
    upstream = re.search(
        r"upstream gongkai_app \{(.*?)\}", (NGINX_DIR / "gongkai.conf").read_text(), re.S
    )
    assert upstream is not None
    ports = set(re.findall(r"server 127\.0\.0\.1:(\d+)", upstream[1]))
    assert len(ports) >= 2 and ports == instances


def test_backup_runs_nightly_into_its_directory() -> None:
    service = unit("gongkai-backup.service")["Service"]
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [
        f"{INSTALL_DIR}/.venv/bin/python {INSTALL_DIR}/manage.py backup /var/backups/gongkai"
    ]
    assert "/var/backups/gongkai" in service["ReadWritePaths"]
    timer = unit("gongkai-backup.timer")
    assert timer["Timer"]["Persistent"] == ["true"]
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", timer["Timer"]["OnCalendar"][0])
    assert timer["Install"]["WantedBy"] == ["timers.target"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is missing")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd's own parser: no unknown key, no bad value. (The programs under /opt/gongkai
    are absent here, which it reports; nothing else may be.)"""
    for path in SYSTEMD_DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(tmp_path / "gongkai-web@.service", tmp_path / "gongkai-web@8001.service")
    shutil.copy(tmp_path / "gongkai-worker@.service", tmp_path / "gongkai-worker@1.service")
    names = [
        "gongkai-web@8001.service",
        "gongkai-worker@1.service",
        "gongkai-migrate.service",
        "gongkai-backup.service",
        "gongkai-backup.timer",
        "gongkai.target",
    ]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in names)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip()
        and "is not executable" not in line
        and "sysinit.target not found" not in line
        and "Failed to read $container" not in line
    ]
    assert complaints == []


# --- nginx ----------------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 50))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def site(conf: str, tmp: Path, static: Path) -> str:
    """A site file with its placeholders replaced by this test's files."""
    cert, key = self_signed(tmp)
    (tmp / "logs").mkdir(exist_ok=True)
    return (
        conf.replace("/etc/ssl/gongkai/fullchain.pem", str(cert))
        .replace("/etc/ssl/gongkai/privkey.pem", str(key))
        .replace("/etc/nginx/snippets/", f"{NGINX_DIR}/")
        .replace("/var/log/nginx/", f"{tmp}/logs/")
        .replace("/opt/gongkai/staticfiles/", f"{static}/")
        .replace("/srv/static/", f"{static}/")
    )


def main_conf(tmp: Path, http: str) -> Path:
    user = f"user {pwd.getpwuid(0).pw_name};" if os.geteuid() == 0 else ""
    temps = "\n".join(
        f"{kind}_temp_path {tmp}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    path = tmp / "nginx.conf"
    path.write_text(
        f"{user}\npid {tmp}/nginx.pid;\nerror_log {tmp}/logs/error.log;\nworker_processes 1;\n"
        f"events {{ worker_connections 128; }}\n"
        f"http {{\n{mime}\ndefault_type application/octet-stream;\n{temps}\n{http}\n}}\n"
    )
    return path


def nginx_test(conf: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NGINX, "-t", "-p", str(tmp), "-e", str(tmp / "logs" / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )


@needs_nginx
@pytest.mark.parametrize("name", ["gongkai.conf", "compose.conf"])
def test_nginx_site_parses(tmp_path: Path, name: str) -> None:
    text = site((NGINX_DIR / name).read_text(), tmp_path, tmp_path / "static")
    # nginx -t resolves upstream host names: the compose network's `web` is not here.
    text = text.replace("server web:8000", "server 127.0.0.1:8000")
    (tmp_path / name).write_text(text)
    result = nginx_test(main_conf(tmp_path, f"include {tmp_path / name};"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_proxy_snippet_keeps_the_contract_of_its_includers() -> None:
    """The scale test and the compose file include it into servers of their own: it may
    only use the upstream gongkai_app and must leave server, upstream and TLS to them."""
    text = "\n".join(
        line.split("#", 1)[0]
        for line in (NGINX_DIR / "gongkai-proxy.conf").read_text().splitlines()
    )
    assert not re.search(r"^\s*(server|upstream|listen|ssl_\w+|server_name)\b", text, re.M)
    assert set(re.findall(r"proxy_pass\s+http://(\w+)", text)) == {"gongkai_app"}
    static = (NGINX_DIR / "gongkai-static.conf").read_text()
    assert not re.search(r"^\s*(root|alias|server)\b", static, re.M)


def body_limit_bytes() -> int:
    text = (NGINX_DIR / "gongkai-proxy.conf").read_text()
    match = re.search(r"^client_max_body_size (\d+)([km]?);", text, re.M)
    assert match is not None
    return int(match[1]) * {"": 1, "k": 1024, "m": 1024 * 1024}[match[2]]


def test_body_limit_fits_the_largest_upload_the_app_accepts(settings: Any) -> None:
    """Five attachments on a suggestion or objection, a roster, a report's evidence: nginx
    must let each through (its 413 would reach the user as a bare error page), and not much
    more (the app would only refuse it after the upload)."""
    largest = max(
        settings.UPLOAD_MAX_BYTES,
        MAX_ATTACHMENTS * settings.ATTACHMENT_MAX_BYTES,
        MAX_EVIDENCE_FILES * settings.ATTACHMENT_MAX_BYTES,
        FILES_PER_SUBMISSION * EVIDENCE_MAX_BYTES,
    )
    limit = body_limit_bytes()
    assert largest + MULTIPART_OVERHEAD <= limit <= 2 * largest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _SiteNameContext(ssl.SSLContext):
    """Says the site's name in the handshake (SNI), as a browser does, whatever address the
    test connects to: the proxy closes handshakes for any other name."""

    def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):  # type: ignore[override]
        return super().wrap_socket(sock, *args, server_hostname=HOST, **kwargs)


def client_context(cert: Path) -> ssl.SSLContext:
    context = _SiteNameContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(cert))
    return context


@dataclass
class Proxy:
    http_port: int
    https_port: int
    cert: Path
    logs: Path

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        source: str = "127.0.0.1",
        body: bytes | None = None,
    ) -> tuple[int, dict[str, str], str]:
        context = client_context(self.cert)
        context.check_hostname = False
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=context, source_address=(source, 0), timeout=10
        )
        try:
            conn.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            conn.close()


# The stand-in app server echoes the headers it received. In front of it in the upstream, a
# server that drops every request unanswered: GETs must still get through (tried again on the
# next server), a POST must not (it may already have been acted upon).
STAND_IN = """
server {{
    listen 127.0.0.1:{echo};
    access_log off;
    location / {{
        default_type text/plain;
        return 200 "app saw: xff=[$http_x_forwarded_for] real=[$http_x_real_ip]
            proto=[$http_x_forwarded_proto] rid=[$http_x_request_id] host=[$http_host]
            fhost=[$http_x_forwarded_host] uri=[$request_uri]";
    }}
}}
server {{
    listen 127.0.0.1:{drop};
    access_log off;
    return 444;
}}
"""


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    if not os.access(NGINX, os.X_OK):
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "app.0123456789ab.css").write_text("body{}")
    (static / "css" / "app.css").write_text("body{}")
    ports = {name: free_port() for name in ("http", "https", "echo", "drop")}
    text = site((NGINX_DIR / "gongkai.conf").read_text(), tmp_path, static)
    text = re.sub(
        r"upstream gongkai_app \{.*?\}",
        f"upstream gongkai_app {{\n server 127.0.0.1:{ports['drop']} max_fails=0;\n"
        f" server 127.0.0.1:{ports['echo']} backup;\n}}",
        text,
        flags=re.S,
    )
    text = re.sub(r"^\s*listen \[::\]:.*$", "", text, flags=re.M)
    text = re.sub(r"listen 80\b", f"listen 127.0.0.1:{ports['http']}", text)
    text = text.replace("listen 443 ssl", f"listen 127.0.0.1:{ports['https']} ssl")
    (tmp_path / "gongkai.conf").write_text(text)
    http = STAND_IN.format(**ports) + f"include {tmp_path / 'gongkai.conf'};"
    conf = main_conf(tmp_path, http)
    checked = nginx_test(conf, tmp_path)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "logs" / "error.log"),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports["https"]), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (tmp_path / "logs" / "error.log").read_text()
                    raise AssertionError(f"nginx did not start: {log}") from None
                time.sleep(0.05)
        yield Proxy(ports["http"], ports["https"], tmp_path / "fullchain.pem", tmp_path / "logs")
    finally:
        process.terminate()
        process.wait(timeout=10)


def echoed(body: str) -> dict[str, str]:
    assert body.startswith("app saw:"), body
    return dict(re.findall(r"(\w+)=\[(.*?)\]", body))


def test_proxy_overwrites_the_client_address_headers(proxy: Proxy) -> None:
    status, _headers, body = proxy.request(
        "GET",
        "/disclosures/",
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Real-IP": "203.0.113.9",
            "X-Request-ID": "chosen-by-the-client",
            "X-Forwarded-Host": "evil.example",
        },
        source="127.0.0.2",
    )
    assert status == 200
    seen = echoed(body)
    # The address nginx saw, never the one the client wrote: the login and report limits
    # count the real client.
    assert seen["real"] == "127.0.0.2"
    assert seen["xff"] == "127.0.0.2"
    assert seen["proto"] == "https"
    assert seen["host"] == HOST
    assert seen["fhost"] == ""
    assert re.fullmatch(r"[0-9a-f]{32}", seen["rid"])
    assert seen["uri"] == "/disclosures/"


def test_plain_http_moves_to_https_on_the_configured_name(proxy: Proxy) -> None:
    """(Any other Host is dropped: test_a_handshake_for_another_name_is_refused.)"""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    conn.request("GET", "/boards/?unit=3", headers={"Host": HOST})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/boards/?unit=3"
    conn.close()


def test_tls_refuses_old_cipher_suites(proxy: Proxy) -> None:
    context = client_context(proxy.cert)
    context.check_hostname = False
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-SHA")  # CBC with SHA-1: not offered
    with (
        pytest.raises(ssl.SSLError),
        socket.create_connection(("127.0.0.1", proxy.https_port)) as raw,
    ):
        context.wrap_socket(raw).close()
    context = client_context(proxy.cert)
    context.check_hostname = False
    with (
        socket.create_connection(("127.0.0.1", proxy.https_port)) as raw,
        context.wrap_socket(raw) as tls,
    ):
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}


def test_media_is_never_served_by_the_proxy(proxy: Proxy) -> None:
    status, _headers, body = proxy.request("GET", "/media/attachments/2026/salary.xlsx")
    assert status == 404
    assert "app saw" not in body


def test_metrics_answer_on_loopback_only(proxy: Proxy) -> None:
    assert proxy.request("GET", "/metrics", source="127.0.0.2")[0] == 403
    assert proxy.request("GET", "/metrics/", source="127.0.0.2")[0] == 403
    status, _headers, body = proxy.request("GET", "/metrics")
    assert status == 200 and echoed(body)["uri"] == "/metrics"
    status, _headers, body = proxy.request("GET", "/healthz", source="127.0.0.2")
    assert status == 200 and echoed(body)["uri"] == "/healthz"


def test_an_upload_over_the_limit_is_refused_before_it_is_sent(proxy: Proxy) -> None:
    context = client_context(proxy.cert)
    context.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", proxy.https_port, context=context, timeout=10)
    conn.putrequest("POST", "/suggestions/new/", skip_host=True)
    conn.putheader("Host", HOST)
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(body_limit_bytes() + 1))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    conn.close()


def test_only_idempotent_requests_are_tried_on_another_app_server(proxy: Proxy) -> None:
    """The first app server drops every request. A page load goes on to the next one; a vote
    or a publication (POST) is never sent twice: the user sees an error and decides."""
    status, _headers, body = proxy.request("GET", "/congress/votes/7/")
    assert status == 200 and echoed(body)["uri"] == "/congress/votes/7/"
    status, _headers, body = proxy.request(
        "POST",
        "/congress/votes/7/cast/",
        body=b"choice=yes",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 502
    assert "app saw" not in body


def test_static_files_hashed_names_are_cached_for_good(proxy: Proxy) -> None:
    status, headers, body = proxy.request("GET", "/static/css/app.0123456789ab.css")
    assert status == 200 and body == "body{}"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _body = proxy.request("GET", "/static/css/app.css")
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=60"
    # Nothing outside STATIC_ROOT is read from disk (nginx.conf is beside it here).
    for path in ("/static/../nginx.conf", "/static../nginx.conf", "/static/%2e%2e/nginx.conf"):
        status, _headers, body = proxy.request("GET", path)
        assert "pid " not in body, path


def test_access_log_has_no_client_address_and_no_anonymous_report(proxy: Proxy) -> None:
    proxy.request("GET", "/report/", source="127.0.0.3")
    proxy.request("POST", "/report/new/", source="127.0.0.3", body=b"x=1")
    proxy.request("GET", "/boards/", source="127.0.0.3")
    log = (proxy.logs / "gongkai.access.log").read_text()
    assert "/boards/" in log
    assert "/report/" not in log
    assert "127.0.0.3" not in log


# --- Containers ---------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


APP_SERVICES = ("web", "worker", "migrate")


def test_compose_runs_every_part() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "nginx", "migrate"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    # The task queue is in Redis: queued notices survive a Redis restart.
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert services["web"]["deploy"]["replicas"] >= 2
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["stop_signal"] == "SIGINT"


def test_compose_sets_only_variables_the_app_reads() -> None:
    allowed = settings_reads() | gunicorn_reads() | DJANGO_READS
    services = compose()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert sorted(set(env) - allowed) == [], name
        assert (
            env["CLIENT_ADDRESS_META"] == env["REPORTING_CLIENT_ADDRESS_META"] == "HTTP_X_REAL_IP"
        )
    assert "*" not in services["web"]["environment"]["GUNICORN_FORWARDED_ALLOW_IPS"]


def test_compose_shares_uploads_and_keys_where_the_settings_look() -> None:
    services = compose()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
        assert mounts[f"{env['GONGKAI_VAR_DIR']}/media"] == "media", name
        assert mounts[str(Path(env["LEDGER_SIGNING_KEY_FILE"]).parent)] == "keys", name
    nginx_mounts = [v.split(":")[0] for v in services["nginx"]["volumes"]]
    for source in nginx_mounts:
        if source.startswith("./nginx/"):
            assert (DEPLOY / source).is_file(), source


def dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _sep, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch(candidate, pattern.removeprefix("**/")) or fnmatch(candidate, pattern)
        for pattern in patterns
        for candidate in candidates
    )


def test_dockerfile_builds_from_files_the_context_has() -> None:
    instructions = dockerfile()
    froms = [rest for word, rest in instructions if word == "FROM"]
    assert len(froms) >= 2
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm") in instructions
    build = compose()["services"]["web"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    for word, rest in instructions:
        if word != "COPY" or rest.startswith("--from"):
            continue
        *sources, _target = rest.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not dockerignored(source), f"{source} is left out by .dockerignore"
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_image_never_receives_the_checkouts_secrets() -> None:
    for path in (
        "var/secret_key.txt",
        "var/ledger-signing.key",
        "deploy/gongkai.env",
        ".venv/bin/python",
        ".git/config",
    ):
        assert dockerignored(path), path


def test_entrypoint_runs_each_role_compose_asks_for() -> None:
    instructions = dict(dockerfile())
    entrypoint = json.loads(instructions["ENTRYPOINT"])[0]
    script = in_checkout(entrypoint.replace("/app/", f"{INSTALL_DIR}/"))
    assert script.is_file() and os.access(script, os.X_OK)
    assert json.loads(instructions["CMD"]) == ["web"]
    roles = set(re.findall(r"^\s+([a-z]+)\)$", script.read_text(), re.M))
    assert {"web", "worker", "migrate", "manage"} <= roles
    for name, service in compose()["services"].items():
        if "build" in service:
            assert service["command"][0] in roles, name
    assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0
    unknown = subprocess.run(
        ["sh", str(script), "serve"], capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 64
    assert "web | worker | migrate" in unknown.stderr


def test_manage_wrapper_refuses_without_the_environment_file() -> None:
    """Without the production environment manage.py would fall back to the demo settings and
    write a SQLite database in the checkout: the wrapper stops first, and says why."""
    script = DEPLOY / "gongkai-manage"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0
    result = subprocess.run(
        ["sh", str(script), "migrate"],
        env={**os.environ, "GONGKAI_ENV_FILE": "/nonexistent/gongkai.env"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot read /nonexistent/gongkai.env" in result.stderr


def test_configparser_reads_units_as_ini() -> None:
    """What an operator's tooling (Ansible's ini lookups, configparser) sees."""
    for path in SYSTEMD_DIR.iterdir():
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string(path.read_text())
        assert parser.sections()[0] == "Unit", path.name


def test_a_handshake_for_another_name_is_refused(proxy: Proxy) -> None:
    """A scanner addressing the server by its IP, or any name but the site's, never reaches
    the app (which would answer 400 and log an error for each)."""
    context = ssl.create_default_context(cafile=str(proxy.cert))
    context.check_hostname = False
    with (
        pytest.raises(ssl.SSLError),
        socket.create_connection(("127.0.0.1", proxy.https_port)) as raw,
    ):
        context.wrap_socket(raw, server_hostname="other.example").close()
    conn = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    conn.request("GET", "/", headers={"Host": "other.example"})
    with pytest.raises(http.client.RemoteDisconnected):
        conn.getresponse()
    conn.close()
