"""Campaigns: read (the office and the auditors), create, open, extend, close (the office);
the late questionnaires and the escalation step each has reached (whoever follows progress)."""

from __future__ import annotations

import math

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort

from survey import access, clock
from survey.api import blueprint, needs
from survey.api.schemas import (
    CampaignCreateSchema,
    CampaignSchema,
    ExtendSchema,
    OpenedSchema,
    OverdueArgs,
    OverduePageSchema,
    PageArgs,
)
from survey.extensions import db
from survey.models import Campaign
from survey.services import campaigns as service
from survey.services import escalation, levels, progress
from survey.services.campaigns import CampaignError, Settings

bp = blueprint("campaigns", "/campaigns", "点検の実施")
# As on the pages: the security office acts, the auditors read.
readers = access.guard(does=access.sees_all)
admins = access.guard(does=access.can_manage_campaigns)
PAGE_SIZE = 100


def _shown(campaign: Campaign) -> dict:
    return {
        **{k: getattr(campaign, k) for k in ("code", "title", "status", "opens_on", "closes_on")},
        "checklist": f"{campaign.checklist.code}@{campaign.checklist.version}",
        "escalation": escalation.campaign_steps(campaign),
    }


def _campaign(code: str) -> Campaign:
    campaign = service.by_code(code)
    if campaign is None:
        abort(404)
    return campaign


def _refused(error: CampaignError):
    """A field's problem is the caller's input (422); otherwise the campaign's state forbids
    the step (409), as when it was opened or closed meanwhile."""
    db.session.rollback()
    if error.problems:
        abort(422, errors={field: [text] for field, text in error.problems.items()})
    abort(409, message=error.message)


@bp.route("", methods=["GET"])
@readers
@bp.arguments(PageArgs, location="query")
@bp.response(200, CampaignSchema(many=True))
def campaign_list(args):
    stmt = sa.select(Campaign).order_by(Campaign.opens_on.desc(), Campaign.id.desc())
    found = db.session.scalars(stmt.offset((args["page"] - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return [_shown(campaign) for campaign in found]


@bp.route("/<code>", methods=["GET"])
@readers
@bp.response(200, CampaignSchema)
def campaign_detail(code: str):
    return _shown(_campaign(code))


@bp.route("/<code>/overdue", methods=["GET"])
@access.guard(does=access.can_view_progress)
@bp.arguments(OverdueArgs, location="query")
@bp.response(200, OverduePageSchema)
def campaign_overdue(args, code: str):
    """The progress page's list of questionnaires not handed in past their due date, on the
    user's scope (a manager's subtree; `dept` narrows it to a unit), with the escalation step
    each has reached today under the campaign's steps."""
    campaign = service.by_code(code)
    if campaign is None or not access.can_view_progress(current_user, campaign):
        # A manager outside the campaign learns nothing about it.
        abort(404)
    level = levels.level_or_404(current_user, args["dept"])
    today = clock.today()
    total, rows = progress.overdue(
        campaign, current_user, today, page=args["page"], per_page=PAGE_SIZE, level=level
    )
    return {
        "campaign": campaign.code,
        "today": today,
        "total": total,
        "page": args["page"],
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "assignments": rows,
    }


@bp.route("", methods=["POST"])
@admins
@needs("admin")
@bp.arguments(CampaignCreateSchema)
@bp.response(201, CampaignSchema)
def campaign_create(posted: dict):
    """A draft campaign on the latest published version of a checklist, with its targets."""
    checklist = service.latest_published(posted["checklist"])
    if checklist is None:
        abort(422, errors={"checklist": [_("公開されたチェックリストを選んでください。")]})
    settings = Settings(
        code=posted["code"],
        title=posted["title"],
        checklist_id=checklist.id,
        opens_on=posted["opens_on"],
        closes_on=posted["closes_on"],
    )
    try:
        campaign = service.create_campaign(settings, current_user)
        service.change_targets(campaign, add=posted["targets"])
    except CampaignError as error:
        _refused(error)
    shown = _shown(campaign)
    db.session.commit()
    return shown


@bp.route("/<code>/open", methods=["POST"])
@admins
@needs("admin")
@bp.response(200, OpenedSchema)
def campaign_open(code: str):
    """Send a draft out: one assignment per target, and the request mails."""
    campaign = _campaign(code)
    try:
        opened = service.open_campaign(campaign, current_user, clock.today())
    except CampaignError as error:
        _refused(error)
    shown = _shown(campaign)
    db.session.commit()
    return {"campaign": shown, "assignments": opened.assignments, "mails": opened.mails}


@bp.route("/<code>/extend", methods=["POST"])
@admins
@needs("admin")
@bp.arguments(ExtendSchema)
@bp.response(200, CampaignSchema)
def campaign_extend(posted: dict, code: str):
    """A later close date for the campaign and every assignment not handed in yet."""
    campaign = _campaign(code)
    try:
        service.extend_campaign(campaign, posted["closes_on"], posted["reason"], current_user)
    except CampaignError as error:
        _refused(error)
    shown = _shown(campaign)
    db.session.commit()
    return shown


@bp.route("/<code>/close", methods=["POST"])
@admins
@needs("admin")
@bp.response(200, CampaignSchema)
def campaign_close(code: str):
    campaign = _campaign(code)
    try:
        service.close_campaign(campaign, current_user)
    except CampaignError as error:
        _refused(error)
    db.session.refresh(campaign)
    shown = _shown(campaign)
    db.session.commit()
    return shown
