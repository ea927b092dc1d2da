"""The versions of each checklist, as the security office manages them in the browser.

A version starts as a draft (uploaded, or copied from an earlier version), can be replaced by
uploading the same version again, and is frozen once published: campaigns are only ever built
on published versions, and their answers point at the exact wording that was asked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from checklists.diff import ChecklistDiff, compare
from checklists.writer import dump_yaml, write_xlsx
from survey.extensions import db
from survey.models import Campaign, Checklist, Item
from survey.models.types import utcnow
from survey.services import checklists as checklist_files
from survey.services import trail

FORMATS = {
    "yaml": "application/yaml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SORTS = ("code", "title", "updated")


@dataclass(frozen=True)
class Version:
    checklist: Checklist
    items: int
    campaigns: int


@dataclass(frozen=True)
class Code:
    """One checklist code and all its versions, oldest first."""

    code: str
    versions: list[Version]

    @property
    def newest(self) -> Checklist:
        return self.versions[-1].checklist

    @property
    def draft(self) -> Checklist | None:
        return next((v.checklist for v in self.versions if not v.checklist.is_published), None)

    @property
    def updated(self) -> datetime:
        return max(v.checklist.published_at or v.checklist.created_at for v in self.versions)

    def matches(self, text: str) -> bool:
        needle = text.casefold()
        return any(
            needle in value.casefold()
            for v in self.versions
            for value in (v.checklist.code, v.checklist.title, v.checklist.title_en)
        )


def _counts(column: sa.ColumnElement, key: sa.ColumnElement) -> dict[int, int]:
    return dict(db.session.execute(sa.select(key, sa.func.count(column)).group_by(key)).all())


def overview(text: str = "", target: str = "", sort: str = "code") -> list[Code]:
    """Every code with its versions, filtered by a text in the code or a title and by target
    kind, sorted by code, by the newest version's title, or most recently changed first."""
    items = _counts(Item.id, Item.checklist_id)
    campaigns = _counts(Campaign.id, Campaign.checklist_id)
    codes: dict[str, list[Version]] = {}
    for checklist in db.session.scalars(
        sa.select(Checklist).order_by(Checklist.code, Checklist.version)
    ):
        codes.setdefault(checklist.code, []).append(
            Version(checklist, items.get(checklist.id, 0), campaigns.get(checklist.id, 0))
        )
    found = [Code(code, versions) for code, versions in codes.items()]
    if text.strip():
        found = [c for c in found if c.matches(text.strip())]
    if target:
        found = [c for c in found if c.newest.target_kind == target]
    if sort == "title":
        found.sort(key=lambda c: (c.newest.title, c.code))
    elif sort == "updated":
        found.sort(key=lambda c: (c.updated, c.code), reverse=True)
    return found


def versions(code: str) -> list[Checklist]:
    return list(
        db.session.scalars(
            sa.select(Checklist).where(Checklist.code == code).order_by(Checklist.version)
        )
    )


def campaigns_using(checklist: Checklist) -> list[Campaign]:
    return list(
        db.session.scalars(
            sa.select(Campaign)
            .where(Campaign.checklist_id == checklist.id)
            .order_by(Campaign.opens_on.desc(), Campaign.code)
        )
    )


def draft_of(code: str) -> Checklist | None:
    return db.session.scalar(
        sa.select(Checklist).where(Checklist.code == code, Checklist.published_at.is_(None))
    )


def publish(checklist: Checklist) -> bool:
    """Publish a draft; False when it already was (by someone else meanwhile, too). One UPDATE
    that only touches a draft, so two admins publishing at once publish it once."""
    published = db.session.execute(
        sa.update(Checklist)
        .where(Checklist.id == checklist.id, Checklist.published_at.is_(None))
        .values(published_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not published:
        return False
    db.session.refresh(checklist)
    trail.record(
        "checklist.publish",
        checklist,
        summary=f"{checklist.label}: published",
        after=_facts(checklist),
    )
    return True


def _facts(checklist: Checklist) -> dict:
    """What the audit trail keeps of a version published or deleted."""
    return {
        "code": checklist.code,
        "version": checklist.version,
        "content_hash": checklist.content_hash,
        "items": len(checklist.items),
    }


def discard_draft(checklist: Checklist) -> bool:
    """Delete a draft no campaign uses, with its items; False when it is published (by
    someone else meanwhile, too) or used. The row is locked first, so a publication at the
    same moment either happens before, and the draft stays, or finds it gone."""
    published_at = db.session.scalar(
        sa.select(Checklist.published_at).where(Checklist.id == checklist.id).with_for_update()
    )
    if published_at is not None or campaigns_using(checklist):
        return False
    trail.record(
        "checklist.discard",
        checklist,
        summary=f"{checklist.label}: draft deleted",
        before=_facts(checklist),
    )
    db.session.delete(checklist)
    db.session.flush()
    return True


class DraftExists(Exception):
    """A code has at most one draft at a time: the next version is prepared in it."""

    def __init__(self, draft: Checklist):
        self.draft = draft
        super().__init__(draft.label)


def new_draft(source: Checklist) -> Checklist:
    """A draft of the next version with the same content as `source`, to edit offline."""
    draft = draft_of(source.code)
    if draft is not None:
        raise DraftExists(draft)
    newest = max(v.version for v in versions(source.code))
    content = replace(checklist_files.to_schema(source), version=newest + 1)
    try:
        stored = checklist_files.add_version(content, source.source_name)
    except sa.exc.IntegrityError:  # another admin made the same version a moment ago
        db.session.rollback()  # nothing else was written in this transaction
        raise DraftExists(draft_of(source.code) or source) from None
    trail.record(
        "checklist.copy",
        stored,
        summary=f"{source.label} -> {stored.label}",
        after={"from": source.label, "to": stored.label, "content_hash": stored.content_hash},
    )
    return stored


def export(checklist: Checklist, fmt: str) -> bytes:
    """The version as a file (yaml or xlsx) that uploads back to the same content."""
    content = checklist_files.to_schema(checklist)
    if fmt == "yaml":
        return dump_yaml(content).encode("utf-8")
    buffer = io.BytesIO()
    write_xlsx(content, buffer)
    return buffer.getvalue()


def filename(checklist: Checklist, fmt: str) -> str:
    return f"{checklist.code}-v{checklist.version}.{fmt}"


def differences(old: Checklist, new: Checklist) -> ChecklistDiff:
    return compare(checklist_files.to_schema(old), checklist_files.to_schema(new))
