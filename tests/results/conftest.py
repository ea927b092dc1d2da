"""Helpers for the results tests: the demo ward, signed in as one of its people, and a second
version of one of its checklists asked in a fourth round."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from survey import demo
from survey.extensions import db
from survey.models import Answer, Assignment, Campaign, OrgUnit
from survey.services import kept_counts


def unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


@pytest.fixture
def signed_in(demo_app):
    """signed_in("manager") -> a test client signed in as that demo user."""

    def sign_in(username: str):
        client = demo_app.test_client()
        response = client.post(
            "/auth/login", data={"username": username, "password": demo.DEMO_PASSWORD}
        )
        assert response.status_code == 302, response.data[:500]
        return client

    return sign_in


REWORDED = "臨時職員、会計年度任用職員を含む全職員が情報セキュリティ研修を受講している"
REMOVED_KEY = "incident-reporting"  # item 21 of version 1


@pytest.fixture
def second_version(demo_app, tmp_path):
    """emergency-assets version 2, asked in 2027: item 1 reworded, items 3 and 4 swapped,
    item 21 dropped and a new item 21. 戸籍住民課 answers はい throughout, 秘書課 いいえ."""
    import yaml

    from survey.demo import DEFINITIONS
    from survey.services.checklists import import_files

    data = yaml.safe_load((DEFINITIONS / "emergency-assets.yaml").read_text(encoding="utf-8"))
    data["version"] = 2
    first = data["categories"][0]["items"][0]
    first["text"] = REWORDED
    storage = data["categories"][1]["items"]
    storage[0], storage[1] = storage[1], storage[0]
    storage[0]["number"], storage[1]["number"] = 3, 4
    last = data["categories"][-1]["items"]
    assert last.pop()["key"] == REMOVED_KEY
    last.append(
        {
            "number": 21,
            "key": "cloud-services",
            "text": "クラウドサービスの利用を台帳で管理している",
        }
    )
    path = tmp_path / "v2.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    outcomes, problems = import_files([path], publish=True)
    assert not problems
    checklist = outcomes[0].checklist
    new = Campaign(
        code="2027-annual-assets",
        title="令和9年度 情報資産の取扱状況 自己点検",
        checklist=checklist,
        opens_on=date(2027, 11, 1),
        closes_on=date(2027, 12, 10),
        status="open",
    )
    db.session.add(new)
    db.session.flush()
    for name, code in (("戸籍住民課", "yes"), ("秘書課", "no")):
        target = unit(name)
        assignment = Assignment(
            campaign_id=new.id,
            target_kind="unit",
            unit_id=target.id,
            responsible_unit_id=target.id,
            status="submitted",
        )
        db.session.add(assignment)
        db.session.flush()
        for item in checklist.items:
            option = next(o for o in item.scale.options if o.code == code)
            db.session.add(
                Answer(assignment_id=assignment.id, item_id=item.id, option_id=option.id)
            )
    kept_counts.recount(new.id)  # the answers went in directly, not by hand-ins
    db.session.commit()  # for the pages too, which read on connections of their own
    return new
