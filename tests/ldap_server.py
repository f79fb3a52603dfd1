"""A real OpenLDAP server (Debian's ``slapd``) on a free loopback port, for the directory
sign-in tests: a temporary slapd.conf (mdb; StartTLS and ldaps:// with a CA of its own;
core, cosine, inetorgperson, nis schemas; the ppolicy module only for its
``pwdAccountLockedTime`` attribute, its overlay not enabled, so that a locked entry still
binds and gongkai's disabled filter is what refuses it), a small directory loaded with
``slapadd``. ``start()`` skips the test, with the reason, where slapd
is missing (``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")

BASE = "dc=gongkai,dc=test"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
ADMIN_DN = f"cn=admin,{BASE}"
SERVICE_DN = f"cn=gongkai,ou=services,{BASE}"


@dataclass(frozen=True)
class Person:
    uid: str
    password: str
    employee_no: str | None
    cn: str
    mail: str = ""
    extra: tuple[str, ...] = ()

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE}"


# The small directory. Employee numbers match the personas of tests/conftest.py.
ZHANGSAN = Person("zhangsan", "Dir-pass-zhangsan-1", "employee", "张三", "zhangsan@dir.test")
LISI = Person("lisi", "Dir-pass-lisi-1", "union", "李四", "lisi@dir.test")
STRANGER = Person("stranger", "Dir-pass-stranger-1", "99999", "王五")  # no gongkai account
NONUMBER = Person("nonumber", "Dir-pass-nonumber-1", None, "赵六")  # no employee number
LOCKED = Person(
    "locked", "Dir-pass-locked-1", "rep", "钱七", extra=("pwdAccountLockedTime: 000001010000Z",)
)
TWIN = Person("twin", "Dir-pass-twin-1", "employee", "孙八")  # claims zhangsan's number
PEOPLE_LIST = (ZHANGSAN, LISI, STRANGER, NONUMBER, LOCKED, TWIN)

BOILER_HEADS = f"cn=boiler-heads,{GROUPS}"
AUDITORS = f"cn=auditors,{GROUPS}"


def ssha(password: str) -> str:
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - LDAP's {SSHA}
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def ldif(admin_password: str, service_password: str) -> str:
    blocks = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: gongkai test\n"
        "dc: gongkai",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=services,{BASE}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: gongkai\nuserPassword: {ssha(service_password)}",
    ]
    for p in PEOPLE_LIST:
        lines = [
            f"dn: {p.dn}",
            "objectClass: inetOrgPerson",
            f"uid: {p.uid}",
            f"cn:: {base64.b64encode(p.cn.encode()).decode()}",
            f"sn: {p.uid}",
            f"userPassword: {ssha(p.password)}",
        ]
        if p.employee_no:
            lines.append(f"employeeNumber: {p.employee_no}")
        if p.mail:
            lines.append(f"mail: {p.mail}")
        lines.extend(p.extra)
        blocks.append("\n".join(lines))
    # groupOfNames needs a member: the admin stands in, so that zhangsan can leave the group.
    blocks.append(
        f"dn: {BOILER_HEADS}\nobjectClass: groupOfNames\ncn: boiler-heads\nmember: {ADMIN_DN}\n"
        f"member: {ZHANGSAN.dn}"
    )
    blocks.append(f"dn: {AUDITORS}\nobjectClass: groupOfNames\ncn: auditors\nmember: {LISI.dn}")
    return "\n\n".join(blocks) + "\n"


def write_certificates(home: Path) -> None:
    """A CA of its own (ca.pem) and a server certificate for 127.0.0.1 signed by it, for
    StartTLS and ldaps://; and another CA (other-ca.pem) that signed nothing here."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(common))
            .issuer_name(name(common))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    ca_key, ca_cert = ca("gongkai test CA")
    _other_key, other_cert = ca("some other CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (home / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (home / "other-ca.pem").write_bytes(other_cert.public_bytes(pem))
    (home / "server.pem").write_bytes(server_cert.public_bytes(pem))
    (home / "server.key").write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Slapd:
    """A running slapd; ``admin()`` is a python-ldap connection as its root DN."""

    home: Path
    port: int
    tls_port: int
    admin_password: str
    service_password: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def ca_file(self) -> str:
        return str(self.home / "ca.pem")

    @property
    def other_ca_file(self) -> str:
        return str(self.home / "other-ca.pem")

    def admin(self):
        import ldap

        connection = ldap.initialize(self.uri, bytes_mode=False)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
        connection.simple_bind_s(ADMIN_DN, self.admin_password)
        return connection

    def start(self) -> None:
        log = (self.home / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            [
                SLAPD,
                "-f",
                str(self.home / "slapd.conf"),
                "-h",
                f"{self.uri}/ {self.ldaps_uri}/",
                "-d",
                "0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"slapd stopped: {(self.home / 'slapd.log').read_text(errors='replace')}"
                )
            try:
                self.admin().unbind_s()
                return
            except Exception:  # not up yet
                time.sleep(0.05)
        raise RuntimeError("slapd did not answer within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def start() -> Slapd:
    """A new slapd with the small directory; skips the test where slapd is missing."""
    if not (os.access(SLAPD, os.X_OK) and os.access(SLAPADD, os.X_OK)):
        pytest.skip(
            f"no slapd at {SLAPD}: install Debian's slapd and ldap-utils to run the directory "
            "sign-in tests (.ci/run does)"
        )
    pytest.importorskip("django_auth_ldap", reason="the 'directory' extra is not installed")
    home = Path(tempfile.mkdtemp(prefix="gongkai-slapd-"))
    (home / "db").mkdir()
    admin_password = secrets.token_urlsafe(12)
    service_password = secrets.token_urlsafe(12)
    schemas = "\n".join(
        f"include {SCHEMA_DIR / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    write_certificates(home)
    (home / "slapd.conf").write_text(
        f"""{schemas}
pidfile {home / "slapd.pid"}
TLSCACertificateFile {home / "ca.pem"}
TLSCertificateFile {home / "server.pem"}
TLSCertificateKeyFile {home / "server.key"}
modulepath {MODULE_DIR}
moduleload back_mdb
moduleload ppolicy
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ADMIN_DN}"
rootpw {ssha(admin_password)}
directory {home / "db"}
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
"""
    )
    (home / "data.ldif").write_text(ldif(admin_password, service_password), encoding="utf-8")
    loaded = subprocess.run(
        [SLAPADD, "-f", str(home / "slapd.conf"), "-l", str(home / "data.ldif")],
        capture_output=True,
        text=True,
        check=False,
    )
    if loaded.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        raise RuntimeError(f"slapadd failed: {loaded.stderr}")
    server = Slapd(home, free_port(), free_port(), admin_password, service_password)
    server.start()
    return server


def remove(server: Slapd) -> None:
    server.stop()
    shutil.rmtree(server.home, ignore_errors=True)
