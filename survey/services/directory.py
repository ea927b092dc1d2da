"""Signing in through the office's directory (LDAP, Active Directory), and the nightly sync.

- **Who goes to the directory.** An account with a password kept here (the break-glass admin,
  contractors) signs in locally and never asks the directory, so it works while the directory is
  down. Every other name is looked up in the directory when `SURVEY_LDAP_URL` is set; an account
  made from it (`User.directory_dn` set) signs in there only and has no local password to fall
  back on.
- **The bind.** With a service account (`LDAP_BIND_DN`) the user's entry is searched by its login
  attribute and then bound as with the typed password; without one the DN comes from
  `LDAP_USER_DN_TEMPLATE` and the user reads their own entry. ldaps:// or StartTLS, the server's
  certificate checked against `LDAP_CA_FILE` (or the system's CAs); plain LDAP only where the
  configuration allows it (never in production: config.py). An empty password is refused before
  any bind: LDAP takes a DN with an empty password as an anonymous bind, which succeeds.
- **Role and unit** come from the groups the entry is a member of (`LDAP_GROUP_FILTER` under
  `LDAP_GROUP_BASE`), through the office's mapping: `LDAP_ROLE_GROUPS` (role = group DN, the
  first that matches wins) and `LDAP_UNIT_GROUPS` (unit code = group DN), or else the unit code
  in `LDAP_UNIT_ATTRIBUTE`. No mapped role: no access to tenken.
- **Failures.** A wrong password is `None`, counted on the account like a local one
  (survey.services.signin); a server that does not answer, refuses TLS or the service account
  raises `Unavailable`, which counts against nobody.

Nothing here commits.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field

import ldap3
import sqlalchemy as sa
from flask import current_app
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from survey.extensions import db
from survey.models import OrgUnit, Role, User
from survey.services import signin, trail

# Result codes of a bind that say the credentials were refused; anything else (busy,
# unavailable, …) is the server's trouble, not the user's.
REFUSED_CREDENTIALS = {48, 49, 50, 53}  # inappropriateAuthentication, invalidCredentials, …
ROLES_NEEDING_UNIT = (Role.MANAGER, Role.RESPONDENT)
PAGE_SIZE = 500  # Active Directory answers at most 1,000 entries a page


class Unavailable(Exception):
    """The directory could not be asked: no connection, TLS refused, the service account
    refused, or a search failed."""


class Refused(Exception):
    """The password was right, but tenken cannot let this person in; `reason` is a code for the
    audit trail (no_role, no_unit, local_account, inactive)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Person:
    """A directory entry as tenken reads it: the role and unit already mapped."""

    username: str
    dn: str
    display_name: str
    email: str | None
    role: str | None
    unit_code: str | None
    groups: frozenset[str] = field(default=frozenset())


def configured() -> bool:
    return bool(current_app.config.get("LDAP_URL"))


def _config(name: str):
    return current_app.config[f"LDAP_{name}"]


def _dn_key(dn: str) -> str:
    """A DN compared as directories do: case and spaces around the separators do not matter."""
    parts = []
    for rdn in dn.split(","):
        attribute, _sep, value = rdn.partition("=")
        parts.append(f"{attribute.strip().lower()}={value.strip().lower()}")
    return ",".join(parts)


# --- connections ----------------------------------------------------------------------------


class _Tls(ldap3.Tls):
    """TLS with the standard library's checks: the certificate chain against the CA file (or
    the system's CAs) and the host name, TLS 1.2 or newer. ldap3 2.9.1 matches the host name
    itself through ssl.match_hostname, deprecated and gone from Python 3.12."""

    def wrap_socket(self, connection, do_handshake=False):
        context = ssl.create_default_context(cafile=self.ca_certs_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        connection.socket = context.wrap_socket(
            connection.socket,
            server_hostname=connection.server.host,
            do_handshake_on_connect=do_handshake,
        )


def _server() -> ldap3.Server:
    return ldap3.Server(
        _config("URL"),
        use_ssl=_config("TLS") == "ldaps",
        tls=_Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=_config("CA_FILE") or None),
        get_info=ldap3.NONE,
        connect_timeout=_config("TIMEOUT"),
    )


def _bind(dn: str, password: str) -> ldap3.Connection | None:
    """A connection bound as `dn`, None if the directory refused the password; raises
    Unavailable for everything else."""
    connection = ldap3.Connection(
        _server(),
        user=dn,
        password=password,
        read_only=True,
        receive_timeout=_config("TIMEOUT"),
        raise_exceptions=False,
        auto_referrals=False,
    )
    try:
        connection.open()
        if _config("TLS") == "starttls" and not connection.start_tls():
            raise Unavailable("StartTLS refused")
        if connection.bind():
            return connection
        code = connection.result.get("result") if connection.result else None
        if code not in REFUSED_CREDENTIALS:
            raise Unavailable(f"bind answered {code}")
    except Unavailable:
        _close(connection)
        raise
    # ldap3 wraps most socket errors, not all, and a reply it cannot decode (a server that is
    # not LDAP, a garbled answer) raises whatever its decoder meets: the directory is unusable.
    except Exception as error:  # noqa: BLE001
        _close(connection)
        raise Unavailable(f"{type(error).__name__}: {error}") from error
    _close(connection)
    return None


def _close(connection: ldap3.Connection) -> None:
    try:
        connection.unbind()
    except (LDAPException, OSError):
        pass  # the socket broke (a failed TLS handshake closes it): no goodbye to send on it
    if connection.socket is not None:
        connection.socket.close()  # ldap3 keeps the socket of a connection that was refused


def _service() -> ldap3.Connection:
    connection = _bind(_config("BIND_DN"), _config("BIND_PASSWORD"))
    if connection is None:
        raise Unavailable("the service account's bind was refused")
    return connection


def _search(connection: ldap3.Connection, base: str, query: str, attributes, **options) -> list:
    try:
        if options.pop("paged", False):
            found = connection.extend.standard.paged_search(
                base, query, attributes=attributes, paged_size=PAGE_SIZE, generator=False
            )
            if connection.result and connection.result.get("result") not in (0, None):
                raise Unavailable(f"search answered {connection.result.get('result')}")
            return [entry for entry in found if entry.get("type") == "searchResEntry"]
        ok = connection.search(base, query, attributes=attributes, **options)
    except (LDAPException, OSError) as error:
        raise Unavailable(f"{type(error).__name__}: {error}") from error
    code = connection.result.get("result")
    if not ok and code not in (0, 32):  # 32: noSuchObject, an empty answer
        raise Unavailable(f"search answered {code}")
    return list(connection.response or [])


# --- reading an entry -----------------------------------------------------------------------


def _attributes() -> list[str]:
    names = [_config("LOGIN_ATTRIBUTE"), _config("NAME_ATTRIBUTE"), _config("MAIL_ATTRIBUTE")]
    if _config("UNIT_ATTRIBUTE"):
        names.append(_config("UNIT_ATTRIBUTE"))
    return [name for name in names if name] + ["cn"]


def _first(entry: dict, name: str) -> str | None:
    if not name:
        return None
    for key, value in (entry.get("attributes") or {}).items():
        if key.lower() == name.lower():
            values = value if isinstance(value, list) else [value]
            for one in values:
                text = (one.decode() if isinstance(one, bytes) else str(one)).strip()
                if text:
                    return text
    return None


def _groups(connection: ldap3.Connection, dn: str) -> frozenset[str]:
    base = _config("GROUP_BASE")
    if not base:
        return frozenset()
    query = _config("GROUP_FILTER").replace("{dn}", escape_filter_chars(dn))
    found = _search(connection, base, query, [], paged=True)
    return frozenset(_dn_key(entry["dn"]) for entry in found)


def _mapped(pairs: Iterable[tuple[str, str]], groups: frozenset[str]) -> str | None:
    for key, group_dn in pairs:
        if _dn_key(group_dn) in groups:
            return key
    return None


def _person(connection: ldap3.Connection, entry: dict) -> Person:
    dn = entry["dn"]
    groups = _groups(connection, dn)
    unit_code = _mapped(_config("UNIT_GROUPS"), groups) or _first(entry, _config("UNIT_ATTRIBUTE"))
    username = _first(entry, _config("LOGIN_ATTRIBUTE")) or ""
    return Person(
        username=username,
        dn=dn,
        display_name=(_first(entry, _config("NAME_ATTRIBUTE")) or _first(entry, "cn") or username)[
            :100
        ],
        email=(_first(entry, _config("MAIL_ATTRIBUTE")) or None),
        role=_mapped(_config("ROLE_GROUPS"), groups),
        unit_code=unit_code,
        groups=groups,
    )


def _user_query(username: str) -> str:
    return f"(&{_config('USER_FILTER')}({_config('LOGIN_ATTRIBUTE')}={username}))"


def _entry_of(connection: ldap3.Connection, username: str) -> dict | None:
    found = _search(
        connection,
        _config("USER_BASE"),
        _user_query(escape_filter_chars(username)),
        _attributes(),
        size_limit=2,
    )
    entries = [entry for entry in found if entry.get("type") == "searchResEntry"]
    return entries[0] if len(entries) == 1 else None  # two entries for one name: neither


def authenticate(username: str, password: str) -> Person | None:
    """The person whose directory password this is, None for a wrong password or an unknown
    name; raises Unavailable when the directory cannot say."""
    username = (username or "").strip()
    if not username or not password:
        return None  # an empty password would be an anonymous bind, which succeeds
    if _config("BIND_DN"):
        service = _service()
        try:
            entry = _entry_of(service, username)
            if entry is None:
                return None
            own = _bind(entry["dn"], password)
            if own is None:
                return None
            _close(own)
            return _person(service, entry)
        finally:
            _close(service)
    dn = _config("USER_DN_TEMPLATE").replace("{username}", escape_rdn(username))
    own = _bind(dn, password)
    if own is None:
        return None
    try:
        # A template that is not a DN (Active Directory's user@domain) finds the entry by name.
        if _config("USER_BASE"):
            entry = _entry_of(own, username)
        else:
            found = _search(own, dn, "(objectClass=*)", _attributes(), search_scope=ldap3.BASE)
            entry = next((e for e in found if e.get("type") == "searchResEntry"), None)
        if entry is None:
            raise Unavailable("the user's own entry could not be read")
        return _person(own, entry)
    finally:
        _close(own)


def everyone() -> list[Person]:
    """Every entry the user filter admits, with its mapped role and unit (the service account
    reads them; `sync` needs one)."""
    if not _config("BIND_DN"):
        raise Unavailable("SURVEY_LDAP_BIND_DN is not set")
    service = _service()
    try:
        found = _search(service, _config("USER_BASE"), _user_query("*"), _attributes(), paged=True)
        return [_person(service, entry) for entry in found]
    finally:
        _close(service)


# --- accounts -------------------------------------------------------------------------------


def directory_account(username: str) -> User | None:
    """The directory account a typed name belongs to (directories compare names without case)."""
    name = (username or "").strip().lower()
    if not name:
        return None
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.username) == name, User.directory_dn.is_not(None))
    )


def _unit(code: str | None) -> OrgUnit | None:
    if not code:
        return None
    return db.session.scalar(
        sa.select(OrgUnit).where(OrgUnit.code == code, OrgUnit.active.is_(True))
    )


def _refusal(person: Person, unit: OrgUnit | None) -> str | None:
    if person.role is None:
        return "no_role"
    if person.role in ROLES_NEEDING_UNIT and unit is None:
        return "no_unit"
    return None


def _facts(user: User) -> dict:
    return {
        "role": user.role,
        "unit": user.unit.code if user.unit else None,
        "display_name": user.display_name,
        "email": user.email,
        "directory_dn": user.directory_dn,
    }


def _take(user: User, person: Person, unit: OrgUnit | None) -> dict:
    """Bring the account in line with its entry; the fields that changed, old and new."""
    before = _facts(user)
    user.role = person.role
    if unit is not None:  # one the mapping cannot tell keeps the old one
        user.unit = unit
    user.display_name = person.display_name
    user.email = person.email
    user.directory_dn = person.dn
    after = _facts(user)
    return {key: (before[key], after[key]) for key in after if before[key] != after[key]}


def _changes_entry(user: User, changes: dict, action: str, **extra) -> None:
    trail.record(
        action,
        user,
        user=None,
        username=user.username,
        summary=user.username,
        before={key: old for key, (old, _new) in changes.items()},
        after={**{key: new for key, (_old, new) in changes.items()}, **extra},
    )


def account_for(person: Person) -> User:
    """The account of a person who just proved their directory password: made on their first
    sign-in, brought up to date on every later one. Raises Refused when tenken cannot let them
    in. An account made here by the register (no password) becomes a directory account; a
    local account with a password of its own never does."""
    unit = _unit(person.unit_code)
    reason = _refusal(person, unit)
    if reason is not None:
        raise Refused(reason)
    user = db.session.scalar(
        sa.select(User).where(
            sa.or_(
                User.directory_dn == person.dn,
                sa.func.lower(User.username) == person.username.lower(),
            )
        )
    )
    if user is None:
        user = User(
            username=person.username[:64],
            role=person.role,
            display_name=person.display_name,
            email=person.email,
            unit=unit,
            directory_dn=person.dn,
        )
        db.session.add(user)
        trail.record(
            "user.create",
            user,
            user=None,
            username=user.username,
            summary=f"{user.username} ({user.role})",
            after={**_facts(user), "source": "directory"},
        )
        return user
    if user.directory_dn is None and (user.password_hash or user.role == Role.CONTRACTOR):
        raise Refused("local_account")
    if not user.active:
        raise Refused("inactive")
    changes = _take(user, person, unit)
    if changes:
        _changes_entry(user, changes, "user.directory_update", source="sign_in")
    return user


def check_password(user: User, password: str) -> bool:
    """A directory account's password, checked by a bind (before a change to two-factor sign-in);
    a wrong one counts as a failed sign-in. Raises Unavailable."""
    if signin.is_locked(user):
        return False
    person = authenticate(user.username, password)
    if person is not None and _dn_key(person.dn) == _dn_key(user.directory_dn or ""):
        return True
    signin.record_failure(user)
    return False


# --- the nightly sync -----------------------------------------------------------------------


@dataclass
class SyncReport:
    checked: int = 0
    unchanged: int = 0
    updated: list[tuple[str, dict]] = field(default_factory=list)
    deactivated: list[tuple[str, str]] = field(default_factory=list)
    sessions_ended: int = 0
    unresolved: list[tuple[str, str]] = field(default_factory=list)  # kept as they were

    def counts(self) -> dict:
        return {
            "checked": self.checked,
            "updated": len(self.updated),
            "deactivated": len(self.deactivated),
            "unchanged": self.unchanged,
            "sessions_ended": self.sessions_ended,
            "unresolved": len(self.unresolved),
        }


def _deactivate(user: User, reason: str, report: SyncReport) -> None:
    user.active = False
    ended = signin.end_all_sessions(user, signin.SessionEnd.INACTIVE)
    report.sessions_ended += ended
    report.deactivated.append((user.username, reason))
    trail.record(
        "user.directory_deactivate",
        user,
        user=None,
        username=user.username,
        summary=user.username,
        before={"active": True},
        after={"active": False, "reason": reason, "sessions_ended": ended},
    )


def sync(people: list[Person] | None = None) -> SyncReport:
    """Every active directory account against the directory: role, unit, name and mail brought
    up to date; an account whose entry is gone (or no longer in a group that gives a role) is
    deactivated and its sessions end. Raises Unavailable when the directory cannot be read, or
    answers with no entry at all while accounts exist: a wrong search base must not deactivate
    everyone. Records each change and a summary."""
    people = everyone() if people is None else people
    accounts = list(
        db.session.scalars(
            sa.select(User)
            .where(User.directory_dn.is_not(None), User.active.is_(True))
            .order_by(User.username)
        )
    )
    if accounts and not people:
        raise Unavailable("the directory returned no entries")
    by_dn = {_dn_key(person.dn): person for person in people}
    by_name = {person.username.lower(): person for person in people}
    report = SyncReport()
    for user in accounts:
        report.checked += 1
        person = by_dn.get(_dn_key(user.directory_dn)) or by_name.get(user.username.lower())
        if person is None:
            _deactivate(user, "left", report)
            continue
        unit = _unit(person.unit_code)
        reason = _refusal(person, unit)
        if reason == "no_role":
            _deactivate(user, reason, report)
            continue
        if reason is not None:
            report.unresolved.append((user.username, reason))
        changes = _take(user, person, unit)
        if changes:
            report.updated.append((user.username, changes))
            _changes_entry(user, changes, "user.directory_update", source="sync")
        else:
            report.unchanged += 1
    trail.record(
        "directory.sync", object_type="directory", summary="sync-ldap", after=report.counts()
    )
    return report
