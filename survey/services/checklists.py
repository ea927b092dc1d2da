"""Checklist files in and out of the database.

Files are read and validated by the framework-free `checklists` package; this module adds the
rules that need the database (a published version never changes, a new version comes after
the stored ones, a checklist has one draft at a time) and
writes everything in one transaction, so a batch with any problem imports nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app

from checklists import schema
from checklists.loader import ChecklistFileError, load_file
from checklists.problems import Problem
from survey.extensions import db
from survey.models import Category, Checklist, ChecklistGrade, Item, Option, Scale
from survey.models.types import utcnow
from survey.services import trail, uploads


@dataclass(frozen=True)
class ImportOutcome:
    checklist: Checklist
    action: str  # created | replaced | published | unchanged


def find(code: str, version: int | None = None) -> Checklist | None:
    """A checklist version, or the newest version of the code when none is given."""
    stmt = sa.select(Checklist).where(Checklist.code == code)
    if version is not None:
        stmt = stmt.where(Checklist.version == version)
    return db.session.scalar(stmt.order_by(Checklist.version.desc()).limit(1))


def import_files(
    paths: Iterable[str | Path], *, publish: bool = False
) -> tuple[list[ImportOutcome], list[Problem]]:
    """Validate every file, then import all of them or, if anything is wrong, none."""
    return _import([(str(path), str(path)) for path in paths], publish)


def import_upload(
    stream: BinaryIO, filename: str, *, publish: bool = False
) -> tuple[list[ImportOutcome], list[Problem]]:
    """A file sent from a browser, imported as import_files does. Problems and the stored
    source name use the file's own name (without any folder the browser sent along)."""
    name = uploads.clean_filename(filename, "checklist")  # the stored source name: 255 at most
    suffix = PurePosixPath(name).suffix.lower()[:8]  # only .yaml, .yml and .xlsx are read
    with tempfile.TemporaryDirectory(prefix="tenken-checklist-") as folder:
        # The reader tells YAML from Excel by the suffix, so the copy keeps it.
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as copy:
            shutil.copyfileobj(stream, copy)
        return _import([(str(path), name)], publish)


def _import(
    sources: list[tuple[str, str]], publish: bool
) -> tuple[list[ImportOutcome], list[Problem]]:
    """(path, name) of each file: all imported, or none if any has a problem."""
    parsed: list[tuple[schema.Checklist, str]] = []
    problems: list[Problem] = []
    max_bytes = current_app.config["CHECKLIST_MAX_BYTES"]
    limits = uploads.workbook_limits("checklist")
    for path, name in sources:
        try:
            checklist = load_file(path, max_bytes=max_bytes, name=name, workbook_limits=limits)
            parsed.append((checklist, name))
        except ChecklistFileError as error:
            problems += error.problems
    problems += _database_problems(parsed) + _order_problems(parsed, publish)
    if problems:
        return [], problems
    outcomes = [_save(checklist, source, publish) for checklist, source in parsed]
    trail.record_imports(outcomes)
    db.session.commit()
    return outcomes, []


def _database_problems(parsed: list[tuple[schema.Checklist, str]]) -> list[Problem]:
    problems = []
    seen: dict[tuple[str, int], str] = {}
    for checklist, source in parsed:
        ident = (checklist.code, checklist.version)
        if ident in seen:
            problems.append(
                Problem(
                    source,
                    "",
                    "duplicate_version_in_batch",
                    {"code": checklist.code, "version": checklist.version, "other": seen[ident]},
                )
            )
        seen[ident] = source
        existing = find(*ident)
        if existing and existing.is_published and existing.content_hash != checklist.content_hash():
            problems.append(
                Problem(
                    source,
                    "",
                    "published_version_changed",
                    {"code": checklist.code, "version": checklist.version},
                )
            )
    return problems


def _order_problems(parsed: list[tuple[schema.Checklist, str]], publish: bool) -> list[Problem]:
    """A version not yet stored must come after every stored one of its code, and cannot be
    added while the code has a draft of another version: the next version is prepared in that
    one draft (checklist_versions.new_draft). The batch counts as imported in order."""
    problems = []
    newest: dict[str, int] = {}
    draft: dict[str, int | None] = {}
    seen: set[tuple[str, int]] = set()
    for checklist, source in parsed:
        code, version = checklist.code, checklist.version
        if (code, version) in seen:
            continue  # duplicate_version_in_batch says it
        seen.add((code, version))
        stored = _stored_versions(code)
        if code not in newest:
            newest[code] = max(stored, default=0)
            draft[code] = next((v for v, published in stored.items() if not published), None)
        if version in stored:  # a draft replaced, or a published version unchanged
            if publish and version == draft[code]:
                draft[code] = None
            continue
        params = {"code": code, "version": version, "newest": newest[code]}
        if draft[code] is not None:
            problems.append(Problem(source, "", "draft_exists", params | {"draft": draft[code]}))
        elif version <= newest[code]:
            problems.append(
                Problem(source, "", "version_not_newer", params | {"next": newest[code] + 1})
            )
        newest[code] = max(newest[code], version)
        draft[code] = None if publish else version
    return problems


def _stored_versions(code: str) -> dict[int, bool]:
    """The stored versions of a code: whether each is published."""
    rows = db.session.execute(
        sa.select(Checklist.version, Checklist.published_at.is_not(None)).where(
            Checklist.code == code
        )
    )
    return {version: published for version, published in rows}


def _scales_used(checklist: schema.Checklist) -> list[schema.Scale]:
    own = {scale.code: scale for scale in checklist.scales}
    codes = dict.fromkeys(item.scale for item in checklist.items)
    return [own.get(code) or schema.BUILTIN_SCALES[code] for code in codes]


def _save(checklist: schema.Checklist, source: str, publish: bool) -> ImportOutcome:
    existing = find(checklist.code, checklist.version)
    if existing is not None and existing.content_hash == checklist.content_hash():
        if publish and not existing.is_published:
            existing.published_at = utcnow()
            return ImportOutcome(existing, "published")
        return ImportOutcome(existing, "unchanged")
    action = "created"
    if existing is not None:  # an unpublished draft: replaced whole
        db.session.delete(existing)
        db.session.flush()
        action = "replaced"
    stored = _build(checklist, Path(source).name)
    if publish:
        stored.published_at = utcnow()
    db.session.add(stored)
    db.session.flush()
    return ImportOutcome(stored, action)


# The texts and marks copied as they are between the file format's objects and the rows.
CHECKLIST_TEXTS = ("description_en", "description_contractor", "description_contractor_en")
CATEGORY_TEXTS = ("description", "description_en")
ITEM_TEXTS = (
    "help_en",
    "heading",
    "heading_en",
    "text_contractor",
    "text_contractor_en",
    "help_contractor",
    "help_contractor_en",
    "examples",
    "examples_en",
    "importance",
    "correct",
)


def _copied(source: object, names: tuple[str, ...]) -> dict[str, object]:
    return {name: getattr(source, name) for name in names}


def _build(checklist: schema.Checklist, source_name: str) -> Checklist:
    scales = {scale.code: _scale_for(scale) for scale in _scales_used(checklist)}
    stored = Checklist(
        code=checklist.code,
        version=checklist.version,
        title=checklist.title,
        title_en=checklist.title_en,
        description=checklist.description,
        target_kind=checklist.target,
        content_hash=checklist.content_hash(),
        source_name=source_name,
        pass_mark=checklist.pass_mark,
        **_copied(checklist, CHECKLIST_TEXTS),
    )
    stored.scales = [s for code, s in scales.items() if code not in schema.BUILTIN_SCALES]
    if checklist.grades is not None:
        stored.grades = [
            ChecklistGrade(
                position=position,
                basis=checklist.grades.basis,
                min=band.min,
                label=band.label,
                label_en=band.label_en,
                advice=band.advice,
                advice_en=band.advice_en,
                below_standard=band.below_standard,
            )
            for position, band in enumerate(checklist.grades.bands)
        ]
    for position, cat in enumerate(checklist.categories):
        category = Category(
            code=cat.code,
            title=cat.title,
            title_en=cat.title_en,
            position=position,
            condition_number=cat.condition.item if cat.condition else None,
            condition_options=list(cat.condition.options) if cat.condition else None,
            **_copied(cat, CATEGORY_TEXTS),
        )
        stored.categories.append(category)
        for it in cat.items:
            # What the item is asked under: answering and counting read items alone.
            condition = schema.effective_condition(cat, it)
            item = Item(
                number=it.number,
                key=it.key,
                text=it.text,
                text_en=it.text_en,
                help=it.help,
                scale=scales[it.scale],
                comment_rule=it.comment,
                evidence_rule=it.evidence,
                condition_number=condition.item if condition else None,
                condition_options=list(condition.options) if condition else None,
                **_copied(it, ITEM_TEXTS),
            )
            category.items.append(item)
            stored.items.append(item)
    return stored


def _scale_for(scale: schema.Scale) -> Scale:
    """A built-in scale's one shared row; a new row for a scale of the file itself, which the
    checklist version then owns (so two files' `level4` never share options)."""
    if scale.code in schema.BUILTIN_SCALES:
        stored = db.session.scalar(
            sa.select(Scale).where(Scale.code == scale.code, Scale.checklist_id.is_(None))
        )
        if stored is not None:
            return stored
    stored = Scale(code=scale.code, title=scale.title)
    for position, opt in enumerate(scale.options):
        stored.options.append(
            Option(
                code=opt.code,
                label=opt.label,
                label_en=opt.label_en,
                klass=opt.klass,
                score=opt.score,
                position=position,
                audience=opt.audience,
            )
        )
    if scale.code in schema.BUILTIN_SCALES:
        db.session.add(stored)
    return stored


def _as_schema_scale(stored: Scale) -> schema.Scale:
    return schema.Scale(
        stored.code,
        stored.title,
        tuple(
            schema.Option(o.code, o.label, o.label_en, o.klass, o.score, o.audience)
            for o in stored.options
        ),
    )


def _condition(number: int | None, options: list[str] | None) -> schema.Condition | None:
    return None if number is None else schema.Condition(number, tuple(options or ()))


def _schema_item(it: Item, inherited: schema.Condition | None) -> schema.Item:
    condition = _condition(it.condition_number, it.condition_options)
    return schema.Item(
        number=it.number,
        key=it.key,
        text=it.text,
        text_en=it.text_en,
        help=it.help,
        scale=it.scale.code,
        comment=it.comment_rule,
        evidence=it.evidence_rule,
        # An item stores the condition it is asked under; its category's is not its own.
        condition=None if condition == inherited else condition,
        **_copied(it, ITEM_TEXTS),
    )


def to_schema(stored: Checklist) -> schema.Checklist:
    """The stored version as the file format's objects, for export."""
    categories = []
    for cat in stored.categories:
        condition = _condition(cat.condition_number, cat.condition_options)
        categories.append(
            schema.Category(
                code=cat.code,
                title=cat.title,
                title_en=cat.title_en,
                items=tuple(_schema_item(it, condition) for it in cat.items),
                condition=condition,
                **_copied(cat, CATEGORY_TEXTS),
            )
        )
    own_scales = {
        it.scale.code: _as_schema_scale(it.scale)
        for it in stored.items
        if it.scale.code not in schema.BUILTIN_SCALES
    }
    return schema.Checklist(
        code=stored.code,
        version=stored.version,
        title=stored.title,
        target=stored.target_kind,
        title_en=stored.title_en,
        description=stored.description,
        categories=tuple(categories),
        scales=tuple(own_scales.values()),
        grades=schema_grades(stored.grades),
        pass_mark=stored.pass_mark,
        **_copied(stored, CHECKLIST_TEXTS),
    )


def schema_grades(rows: list[ChecklistGrade]) -> schema.Grades | None:
    """A version's stored grades as the file format's, or None when it has none."""
    if not rows:
        return None
    bands = tuple(
        schema.Band(
            r.min, r.label, r.label_en, r.advice, r.advice_en, below_standard=r.below_standard
        )
        for r in rows
    )
    return schema.Grades(rows[0].basis, bands)


def add_version(checklist: schema.Checklist, source_name: str) -> Checklist:
    """A new unpublished version made from the file format's objects, without any file (a
    copy of another version); the caller has checked that the code and version are free."""
    stored = _build(checklist, source_name)
    db.session.add(stored)
    db.session.flush()
    return stored
