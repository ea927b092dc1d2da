"""Checklist versions as stored: categories, items and the answer scales they use.

A published version is immutable (the importer refuses to change it); a change is a new version,
so answers always point at the exact wording that was answered.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checklists.texts import pick
from survey.extensions import db
from survey.models.types import utcnow


class Scale(db.Model):
    """An answer scale. A checklist file's own scales belong to the version that defines them,
    so the same code in two files never mixes their options; the built-in scales (and those
    stored before scales had an owner) belong to none and are shared."""

    __tablename__ = "scale"
    __table_args__ = (sa.UniqueConstraint("checklist_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checklist.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(100))

    options: Mapped[list[Option]] = relationship(back_populates="scale", order_by="Option.position")


class Option(db.Model):
    __tablename__ = "scale_option"
    __table_args__ = (
        sa.UniqueConstraint("scale_id", "code"),
        sa.CheckConstraint(
            "klass IN ('compliant', 'partial', 'noncompliant', 'unknown', 'excluded',"
            " 'informational')",
            name="known_class",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scale_id: Mapped[int] = mapped_column(sa.ForeignKey("scale.id"))
    code: Mapped[str] = mapped_column(sa.String(32))
    label: Mapped[str] = mapped_column(sa.String(100))
    label_en: Mapped[str] = mapped_column(sa.String(100))
    klass: Mapped[str] = mapped_column(sa.String(16))
    score: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)
    # "" (anyone) or who alone may choose it: "staff" or "contractor" (checklists.schema).
    audience: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")

    scale: Mapped[Scale] = relationship(back_populates="options")

    def label_for(self, lang: str) -> str:
        """The label shown in `lang`: English where the checklist gives one, else Japanese."""
        return self.label_en if lang == "en" and self.label_en else self.label

    def offered_to(self, audience: str) -> bool:
        return self.audience in ("", audience)


class ChecklistGrade(db.Model):
    """One band of a checklist version's grades. Each row repeats the grades' basis, so that a
    version's grades are its rows alone (the checklist table keeps its columns)."""

    __tablename__ = "checklist_grade"
    __table_args__ = (
        sa.UniqueConstraint("checklist_id", "position"),
        sa.CheckConstraint("basis IN ('percent', 'points')", name="known_basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist.id"), index=True)
    position: Mapped[int]
    basis: Mapped[str] = mapped_column(sa.String(16))
    min: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(100))
    label_en: Mapped[str] = mapped_column(sa.String(100), default="")
    advice: Mapped[str] = mapped_column(sa.Text, default="")
    advice_en: Mapped[str] = mapped_column(sa.Text, default="")
    below_standard: Mapped[bool] = mapped_column(default=False)


class Checklist(db.Model):
    """One version of one checklist."""

    __tablename__ = "checklist"
    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    description_contractor: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    description_contractor_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    target_kind: Mapped[str] = mapped_column(sa.String(16))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    source_name: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # A comprehension test's pass mark (percent of items right); None for every other checklist.
    pass_mark: Mapped[int | None]

    scales: Mapped[list[Scale]] = relationship(cascade="all, delete-orphan")
    categories: Mapped[list[Category]] = relationship(
        back_populates="checklist", order_by="Category.position", cascade="all, delete-orphan"
    )
    items: Mapped[list[Item]] = relationship(
        back_populates="checklist", order_by="Item.number", cascade="all, delete-orphan"
    )
    # Its grades (checklists.schema.Grades), highest band first; none: results are ungraded.
    grades: Mapped[list[ChecklistGrade]] = relationship(
        order_by="ChecklistGrade.position", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"

    def title_for(self, lang: str) -> str:
        return pick(self, "title", lang)

    def description_for(self, lang: str, audience: str = "staff") -> str:
        return pick(self, "description", lang, audience)


class Category(db.Model):
    __tablename__ = "category"
    __table_args__ = (sa.UniqueConstraint("checklist_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist.id"))
    code: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # The category is asked only when the item numbered `condition_number` got one of
    # `condition_options`. Its items without a condition of their own carry the same one (the
    # importer copies it), so that answering and counting look at items alone.
    condition_number: Mapped[int | None]
    condition_options: Mapped[list[str] | None] = mapped_column(sa.JSON)

    checklist: Mapped[Checklist] = relationship(back_populates="categories")
    items: Mapped[list[Item]] = relationship(back_populates="category", order_by="Item.number")

    def title_for(self, lang: str) -> str:
        return pick(self, "title", lang)


class Item(db.Model):
    __tablename__ = "item"
    __table_args__ = (
        sa.UniqueConstraint("checklist_id", "number"),
        sa.UniqueConstraint("checklist_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"), index=True)
    number: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(100))
    text: Mapped[str] = mapped_column(sa.Text)
    text_en: Mapped[str] = mapped_column(sa.Text, default="")
    help: Mapped[str] = mapped_column(sa.Text, default="")
    scale_id: Mapped[int] = mapped_column(sa.ForeignKey("scale.id"))
    comment_rule: Mapped[str] = mapped_column(sa.String(16), default="noncompliant")
    evidence_rule: Mapped[str] = mapped_column(sa.String(16), default="never")
    # Asked only when the item numbered `condition_number` got one of `condition_options`.
    condition_number: Mapped[int | None]
    condition_options: Mapped[list[str] | None] = mapped_column(sa.JSON)
    help_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    heading: Mapped[str] = mapped_column(sa.Text, default="", server_default="")  # 小見出し
    heading_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    text_contractor: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    text_contractor_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    help_contractor: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    help_contractor_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    examples: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    examples_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # "", "required" or "recommended": a mark shown beside the item and in the results.
    importance: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")
    # A comprehension test's right option code; "" elsewhere.
    correct: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")

    checklist: Mapped[Checklist] = relationship(back_populates="items")
    category: Mapped[Category] = relationship(back_populates="items")
    scale: Mapped[Scale] = relationship()

    @property
    def condition_labels(self) -> list[str]:
        """The answers the condition names as respondents read them (はい, not `yes`)."""
        if self.condition_number is None:
            return []
        parent = next((i for i in self.checklist.items if i.number == self.condition_number), None)
        labels = {o.code: o.label for o in parent.scale.options} if parent else {}
        return [labels.get(code, code) for code in self.condition_options or []]

    def text_for(self, lang: str, audience: str = "staff") -> str:
        return pick(self, "text", lang, audience)

    def options_for(self, audience: str) -> list[Option]:
        """The options a reader of `audience` may choose."""
        return [option for option in self.scale.options if option.offered_to(audience)]
