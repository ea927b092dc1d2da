"""Typed SQLAlchemy models, one module per aggregate."""

from survey.models.campaigns import Answer, Assignment, AssignmentStatus, Attachment, Campaign
from survey.models.checklists import Category, Checklist, Item, Option, Scale
from survey.models.org import Contractor, OrgUnit, Role, User
from survey.models.registers import Contract, InformationSystem, Subcontract

__all__ = [
    "Answer",
    "Assignment",
    "AssignmentStatus",
    "Attachment",
    "Campaign",
    "Category",
    "Checklist",
    "Contract",
    "Contractor",
    "InformationSystem",
    "Item",
    "Option",
    "OrgUnit",
    "Role",
    "Scale",
    "Subcontract",
    "User",
]
