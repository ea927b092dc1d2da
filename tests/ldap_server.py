"""A private OpenLDAP directory for the directory sign-in tests: Debian's slapd (`make
ldap-deps`) run as the current user from a temporary folder, with its own slapd.conf, its own
mdb database and a certificate from a throwaway CA (trustme), listening on 127.0.0.1 only: plain
LDAP with StartTLS on one free port, LDAPS on another. Started once per test session (per
worker), stopped at its end; `directory` gives each test the same people and groups afresh.

The `ldap_server` and `directory` fixtures are registered for every test by tests/conftest.py.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import ldap3
import pytest
import trustme
from ldap3.core.exceptions import LDAPNoSuchObjectResult

from tests.smtp_server import free_port

SUFFIX = "dc=tenken,dc=example"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
PLACEHOLDER = f"cn=nobody,{SUFFIX}"
SCHEMAS = ("core", "cosine", "inetorgperson")
SLAPD = ("/usr/sbin/slapd", "slapd")


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group_dn(cn: str) -> str:
    return f"cn={cn},{GROUPS}"


# What the office would configure: role groups, most privileged first, and unit groups.
ROLE_GROUPS = [
    ("admin", group_dn("tenken-admins")),
    ("auditor", group_dn("tenken-auditors")),
    ("manager", group_dn("tenken-managers")),
    ("respondent", group_dn("tenken-respondents")),
]
UNIT_GROUPS = [("D04-01", group_dn("koseki")), ("D04-02", group_dn("zeimu"))]

# uid: (name, password, mail, departmentNumber, groups)
PEOPLE_ENTRIES = {
    "yamada": (
        "山田 花子",
        "yamada-directory-pw",
        "yamada@city.example.jp",
        None,
        ["tenken-respondents", "koseki"],
    ),
    "sato": ("佐藤 一郎", "sato-directory-pw", "sato@city.example.jp", "D04", ["tenken-managers"]),
    "suzuki": (
        "鈴木 次郎",
        "suzuki-directory-pw",
        "suzuki@city.example.jp",
        None,
        ["tenken-admins"],
    ),
    "tanaka": ("田中 三郎", "tanaka-directory-pw", "tanaka@city.example.jp", "D04-01", []),
}


class LdapServer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.ldaps_port = free_port()
        self.root_dn = f"cn=admin,{SUFFIX}"
        self.root_password = secrets.token_urlsafe(16)
        self.ca_file = folder / "ca.pem"
        self.process: subprocess.Popen | None = None

    def _write_files(self) -> Path:
        authority = trustme.CA()
        authority.cert_pem.write_to_path(str(self.ca_file))
        certificate = authority.issue_cert("127.0.0.1", "localhost")
        certificate.private_key_pem.write_to_path(str(self.folder / "server.key"))
        certificate.cert_chain_pems[0].write_to_path(str(self.folder / "server.pem"))
        (self.folder / "data").mkdir()
        includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
        config = self.folder / "slapd.conf"
        config.write_text(
            f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {self.folder}/slapd.pid
argsfile {self.folder}/slapd.args
TLSCACertificateFile {self.ca_file}
TLSCertificateFile {self.folder}/server.pem
TLSCertificateKeyFile {self.folder}/server.key
database mdb
suffix "{SUFFIX}"
rootdn "{self.root_dn}"
rootpw {self.root_password}
directory {self.folder}/data
maxsize 10485760
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
"""
        )
        return config

    def start(self) -> None:
        binary = next((found for name in SLAPD if (found := shutil.which(name))), None)
        if binary is None:
            raise RuntimeError("slapd が見つかりません (make ldap-deps)")
        config = self._write_files()
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.ldaps_port}/"
        # -d 0: stays in the foreground, so the test session owns the process and stops it.
        self.process = subprocess.Popen(
            [binary, "-f", str(config), "-h", urls, "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"slapd did not start on port {self.port}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process.stderr.close()
            self.process = None

    # --- the directory's content, as the test's office keeps it ------------------------------

    def admin(self) -> ldap3.Connection:
        """The directory's own administrator, over the loopback (the tests' side, not tenken's)."""
        server = ldap3.Server(f"ldap://127.0.0.1:{self.port}", get_info=ldap3.NONE)
        # Bound by `with` and unbound at its end (ldap3 leaves open what was open before).
        return ldap3.Connection(server, self.root_dn, self.root_password, raise_exceptions=True)

    def reset(self) -> None:
        """The same people and groups for every test."""
        with self.admin() as connection:
            try:
                connection.search(SUFFIX, "(objectClass=*)", attributes=[])
            except LDAPNoSuchObjectResult:  # the first test: an empty database
                pass
            else:
                for entry in sorted(connection.entries, key=lambda e: -len(e.entry_dn)):
                    connection.delete(entry.entry_dn)
            connection.add(SUFFIX, ["dcObject", "organization"], {"o": "tenken", "dc": "tenken"})
            connection.add(PEOPLE, ["organizationalUnit"], {"ou": "people"})
            connection.add(GROUPS, ["organizationalUnit"], {"ou": "groups"})
            connection.add(
                f"cn=tenken-sync,{SUFFIX}",
                ["organizationalRole", "simpleSecurityObject"],
                {"cn": "tenken-sync", "userPassword": self.service_password},
            )
            members: dict[str, list[str]] = {}
            for uid, (_name, _password, _mail, _unit, groups) in PEOPLE_ENTRIES.items():
                for group in groups:
                    members.setdefault(group, []).append(person_dn(uid))
            for uid, (name, password, mail, unit, _groups) in PEOPLE_ENTRIES.items():
                self._add_person(connection, uid, name, password, mail, unit)
            for _key, dn in ROLE_GROUPS + UNIT_GROUPS:
                cn = dn.split(",")[0].split("=")[1]
                # groupOfNames needs a member: a placeholder keeps a group that people leave.
                connection.add(
                    dn, ["groupOfNames"], {"cn": cn, "member": [PLACEHOLDER, *members.get(cn, [])]}
                )

    service_password = "sync-service-pw"

    @staticmethod
    def _add_person(connection, uid, name, password, mail, unit) -> None:
        attributes = {
            "uid": uid,
            "cn": name,
            "sn": name.split()[0],
            "displayName": name,
            "mail": mail,
            "userPassword": password,
        }
        if unit:
            attributes["departmentNumber"] = unit
        connection.add(person_dn(uid), ["inetOrgPerson"], attributes)

    def add_person(self, uid, name, password, mail, unit=None, groups=()) -> None:
        with self.admin() as connection:
            self._add_person(connection, uid, name, password, mail, unit)
        for group in groups:
            self.join(uid, group)

    def join(self, uid: str, group: str) -> None:
        with self.admin() as connection:
            connection.modify(group_dn(group), {"member": [(ldap3.MODIFY_ADD, [person_dn(uid)])]})

    def leave(self, uid: str, group: str) -> None:
        with self.admin() as connection:
            connection.modify(
                group_dn(group), {"member": [(ldap3.MODIFY_DELETE, [person_dn(uid)])]}
            )

    def remove_person(self, uid: str) -> None:
        """Someone who left the office: their entry goes, and with it their group memberships."""
        for uid_, (*_rest, groups) in PEOPLE_ENTRIES.items():
            if uid_ == uid:
                for group in groups:
                    self.leave(uid, group)
        with self.admin() as connection:
            connection.delete(person_dn(uid))

    def settings(self, tls: str = "starttls", **overrides) -> dict:
        """tenken's settings for this directory, as docs/deployment.md describes them."""
        url = (
            f"ldaps://127.0.0.1:{self.ldaps_port}"
            if tls == "ldaps"
            else f"ldap://127.0.0.1:{self.port}"
        )
        return {
            "LDAP_URL": url,
            "LDAP_TLS": tls,
            "LDAP_CA_FILE": str(self.ca_file),
            "LDAP_TIMEOUT": 5,
            "LDAP_BIND_DN": f"cn=tenken-sync,{SUFFIX}",
            "LDAP_BIND_PASSWORD": self.service_password,
            "LDAP_USER_DN_TEMPLATE": "",
            "LDAP_USER_BASE": PEOPLE,
            "LDAP_USER_FILTER": "(objectClass=inetOrgPerson)",
            "LDAP_LOGIN_ATTRIBUTE": "uid",
            "LDAP_NAME_ATTRIBUTE": "displayName",
            "LDAP_MAIL_ATTRIBUTE": "mail",
            "LDAP_UNIT_ATTRIBUTE": "departmentNumber",
            "LDAP_GROUP_BASE": GROUPS,
            "LDAP_GROUP_FILTER": "(&(objectClass=groupOfNames)(member={dn}))",
            "LDAP_ROLE_GROUPS": ROLE_GROUPS,
            "LDAP_UNIT_GROUPS": UNIT_GROUPS,
            **overrides,
        }


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory):
    server = LdapServer(tmp_path_factory.mktemp("slapd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def directory(ldap_server, demo_app):
    """The demo ward signing in through the directory (StartTLS), its people as set out above."""
    ldap_server.reset()
    demo_app.config.update(ldap_server.settings())
    return ldap_server
