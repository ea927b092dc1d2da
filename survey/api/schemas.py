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


class StepsSchema(Schema):
    """Escalation steps (督促段階, reports.escalation): on which day, counted from a due date,
    each is reminded of what is late — the respondents, then the head of the unit, then the
    head of the unit above."""

    respondent = fields.Integer(
        allow_none=True,
        metadata={"description": "回答者: days from the due date (negative: before); null: none"},
    )
    unit_head = fields.Integer(
        allow_none=True,
        metadata={"description": "所属長 (the unit's managers): days from the due date"},
    )
    department_head = fields.Integer(
        allow_none=True,
        metadata={"description": "部局長 (the managers of the unit above): days from the due date"},
    )


class CampaignSchema(Schema):
    code = fields.String()
    title = fields.String()
    checklist = fields.String(metadata={"description": "code@version"})
    status = fields.String(metadata={"description": "draft | open | closed"})
    opens_on = fields.Date()
    closes_on = fields.Date()
    escalation = fields.Nested(StepsSchema)


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


class PersonSchema(Schema):
    username = fields.String()
    name = fields.String(attribute="display_name")


class CategoryCodeSchema(Schema):
    code = fields.String()


class DelegationSchema(Schema):
    """A part of a questionnaire handed to a colleague (委任)."""

    id = fields.Integer()
    assignment = fields.Integer(attribute="assignment_id")
    delegator = fields.Nested(PersonSchema)
    delegate = fields.Nested(PersonSchema)
    categories = fields.Pluck(
        CategoryCodeSchema, "code", many=True, metadata={"description": "the categories' codes"}
    )
    due_on = fields.Date()
    note = fields.String()
    created_at = UtcDateTime()
    done_at = UtcDateTime(
        allow_none=True, metadata={"description": "when the delegate marked the part done"}
    )
    withdrawn_at = UtcDateTime(
        attribute="ended_at",
        allow_none=True,
        metadata={"description": "when the part was taken back: the delegate's access ended"},
    )


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


class OverdueArgs(PageArgs, ResultArgs):
    """A page of the late ones, on the user's scope or a unit of it (`dept`)."""


class OverdueSchema(Schema):
    assignment = fields.Integer(attribute="assignment.id")
    target = fields.String(attribute="assignment.target_name")
    target_kind = fields.String(attribute="assignment.target_kind")
    status = fields.String(attribute="assignment.status")
    department = fields.String()
    unit = fields.String()
    due_on = fields.Date(attribute="due")
    days_over = fields.Integer()
    escalation_step = fields.String(
        attribute="step",
        allow_none=True,
        metadata={
            "description": "the step reached today: respondent | unit_head | department_head "
            "(null: none yet)"
        },
    )


class OverduePageSchema(Schema):
    campaign = fields.String()
    today = fields.Date(metadata={"description": "the day the steps are counted to"})
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    assignments = fields.List(fields.Nested(OverdueSchema))


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


class RegisterKindSchema(Schema):
    kind = fields.String(
        metadata={"description": "units | users | systems | contractors | contracts"}
    )
    register = fields.String(metadata={"description": "the register's name (組織台帳 …)"})
    active = fields.Integer()
    inactive = fields.Integer()
    columns = fields.List(
        fields.Nested(ColumnSchema),
        metadata={"description": "key, and the header the register's files use"},
    )


class RegisterArgs(PageArgs):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "found in any column, as shown"},
    )
    status = fields.String(
        load_default="active", validate=validate.OneOf(["active", "inactive", "all"])
    )
    sort = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "a column's key (the register's key by default)"},
    )
    dir = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class RegisterRowSchema(Schema):
    active = fields.Boolean()
    values = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "column key → the value as the register page shows it"},
    )


class RegisterPageSchema(Schema):
    kind = fields.String()
    register = fields.String()
    columns = fields.List(fields.Nested(ColumnSchema))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    rows = fields.List(fields.Nested(RegisterRowSchema))


class RegisterFileSchema(Schema):
    file = fields.Raw(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": "the whole register as .xlsx or CSV (UTF-8 or Shift_JIS)",
        },
    )


class FieldChangeSchema(Schema):
    column = fields.String(metadata={"description": "the column's header"})
    old = fields.String()
    new = fields.String()


class RecordChangeSchema(Schema):
    key = fields.String()
    name = fields.String()
    row = fields.Integer(
        allow_none=True, metadata={"description": "the file's row (the header is row 1)"}
    )
    # Not named `fields` here: a marshmallow schema's own attribute.
    changes = fields.List(fields.Nested(FieldChangeSchema), attribute="fields", data_key="fields")


class ChangeCountsSchema(Schema):
    added = fields.Integer()
    changed = fields.Integer()
    deactivated = fields.Integer()


class RegisterPreviewSchema(Schema):
    id = fields.String(metadata={"description": "the preview's id: only its uploader applies it"})
    kind = fields.String()
    register = fields.String()
    filename = fields.String()
    expires_at = UtcDateTime()
    digest = fields.String(metadata={"description": "what applying would do; send it to apply"})
    counts = fields.Nested(ChangeCountsSchema)
    added = fields.List(fields.Nested(RecordChangeSchema))
    changed = fields.List(fields.Nested(RecordChangeSchema))
    deactivated = fields.List(fields.Nested(RecordChangeSchema))
    still_used = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "key of a record to deactivate → what still refers to it"},
    )


class RegisterApplySchema(Schema):
    digest = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$"),
        metadata={"description": "the preview's digest (409 when the register changed since)"},
    )


class RegisterAppliedSchema(Schema):
    kind = fields.String()
    register = fields.String()
    applied = fields.Boolean(
        metadata={"description": "false: the file and the register were the same already"}
    )
    counts = fields.Nested(ChangeCountsSchema)
