"""What the API reads and writes, as marshmallow schemas: the OpenAPI document is made from them.

Keys are English, as in tenken's other JSON (read by programs); texts are as stored.
"""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from survey.services.answering import COMMENT_MAX


class UtcDateTime(fields.DateTime):
    """A stored moment with its offset: SQLite hands back naive times (stored as UTC), and
    RFC 3339 (OpenAPI's date-time) wants the offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=2**31 - 1))


class OptionSchema(Schema):
    code = fields.String()
    label = fields.String()
    klass = fields.String(metadata={"description": "compliant | noncompliant | excluded"})


class ItemSchema(Schema):
    number = fields.Integer()
    key = fields.String()
    text = fields.String()
    options = fields.List(fields.Nested(OptionSchema))
    condition_number = fields.Integer(allow_none=True)
    condition_options = fields.List(fields.String(), allow_none=True)


class ChecklistSchema(Schema):
    code = fields.String()
    version = fields.Integer()
    title = fields.String()
    target_kind = fields.String()
    published_at = UtcDateTime(allow_none=True)
    content_hash = fields.String()


class ChecklistDetailSchema(ChecklistSchema):
    items = fields.List(fields.Nested(ItemSchema))


class ProblemSchema(Schema):
    where = fields.String()
    message = fields.String()


class ImportedSchema(Schema):
    action = fields.String(metadata={"description": "created | replaced | published | unchanged"})
    checklist = fields.Nested(ChecklistSchema)


class ChecklistFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class CampaignSchema(Schema):
    code = fields.String()
    title = fields.String()
    checklist = fields.String(metadata={"description": "code@version"})
    status = fields.String(metadata={"description": "draft | open | closed"})
    opens_on = fields.Date()
    closes_on = fields.Date()


_CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class CampaignCreateSchema(Schema):
    code = fields.String(required=True, validate=_CODE)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    checklist = fields.String(
        required=True,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "a published checklist's code (its latest version)"},
    )
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True)
    targets = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)),
        load_default=list,
        validate=validate.Length(max=5000),
        metadata={"description": "ids of the units, systems or contracts to inspect"},
    )


class ExtendSchema(Schema):
    closes_on = fields.Date(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class OpenedSchema(Schema):
    campaign = fields.Nested(CampaignSchema)
    assignments = fields.Integer()
    mails = fields.Integer()


class AssignmentSchema(Schema):
    id = fields.Integer()
    campaign = fields.String(attribute="campaign.code")
    campaign_title = fields.String(attribute="campaign.title")
    target = fields.String(attribute="target_name")
    target_kind = fields.String()
    status = fields.String()
    due_on = fields.Date(allow_none=True)
    revision = fields.Integer()


class AnswerSchema(Schema):
    item = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    option = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))
    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))


class AnswersSchema(Schema):
    assignment = fields.Integer()
    revision = fields.Integer()
    status = fields.String()
    answers = fields.List(fields.Nested(AnswerSchema))


class SaveAnswersSchema(Schema):
    revision = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=2**31 - 1),
        metadata={"description": "the revision the answers were read at (409 when stale)"},
    )
    answers = fields.List(
        fields.Nested(AnswerSchema), required=True, validate=validate.Length(max=2000)
    )


class SavedSchema(Schema):
    revision = fields.Integer()
    changed = fields.List(fields.Integer(), metadata={"description": "item numbers changed"})
    answered = fields.Integer()
    asked = fields.Integer()


class ColumnSchema(Schema):
    key = fields.String()
    title = fields.String()


class ResultTableSchema(Schema):
    """The results download's JSON shape (reports/tables.py json_document)."""

    campaign = fields.String()
    title = fields.String()
    checklist = fields.String()
    checklist_title = fields.String()
    opens_on = fields.String(allow_none=True)
    closes_on = fields.String(allow_none=True)
    generated_at = fields.String()
    generated_by = fields.String()
    scope = fields.String()
    table = fields.String()
    columns = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(fields.Dict())


class ResultArgs(Schema):
    dept = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "a unit of the user's scope: the figures below it"},
    )


class ActionSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    status = fields.String(metadata={"description": "open | in_progress | reported | verified"})
    due_on = fields.Date()
    unit = fields.String(attribute="unit.name", allow_none=True)
    contractor = fields.String(attribute="contractor.name", allow_none=True)
    campaign = fields.String(attribute="campaign.code", allow_none=True)
    measure = fields.String()


class ActionStepSchema(Schema):
    step = fields.String(
        required=True, validate=validate.OneOf(["start", "report", "verify", "send_back"])
    )
    expected = fields.String(
        required=True,
        validate=validate.OneOf(["open", "in_progress", "reported", "verified"]),
        metadata={"description": "the status the caller saw (a stale one is 409)"},
    )
    comment = fields.String(load_default="", validate=validate.Length(max=4000))
    measure = fields.String(load_default="", validate=validate.Length(max=20000))


class ActionArgs(PageArgs):
    status = fields.String(
        load_default=None, validate=validate.OneOf(["open", "in_progress", "reported", "verified"])
    )


class AssignmentArgs(PageArgs):
    campaign = fields.String(load_default=None, validate=validate.Length(max=64))
