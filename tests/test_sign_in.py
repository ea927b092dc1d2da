"""People sign in and see, on the home page, only what their role lets them see."""

import pytest


def test_login_page_is_japanese(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="ja">' in page
    assert "ユーザー名" in page and "パスワード" in page


def test_login_page_in_english_on_request(client):
    page = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Username" in page and "Password" in page


def test_home_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_wrong_password_is_refused_and_the_username_is_kept(auth, demo_client):
    response = auth.login("respondent", "wrong-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ユーザー名またはパスワードが正しくありません" in page
    assert 'value="respondent"' in page
    assert demo_client.get("/").status_code == 302


def test_unknown_user_gets_the_same_message(auth):
    page = auth.login("nobody", "whatever").get_data(as_text=True)
    assert "ユーザー名またはパスワードが正しくありません" in page


def test_login_then_logout(auth, demo_client):
    assert auth.login("admin").headers["Location"] == "/"
    assert "情報 守" in demo_client.get("/").get_data(as_text=True)
    auth.logout()
    assert demo_client.get("/").status_code == 302


def test_login_does_not_redirect_off_site(auth, demo_client):
    response = demo_client.post(
        "/auth/login?next=https://evil.example/",
        data={"username": "admin", "password": "tenken-demo-2026"},
    )
    assert response.headers["Location"] == "/"


def test_inactive_account_cannot_sign_in(auth, demo_app):
    from survey.extensions import db
    from survey.models import User

    user = db.session.scalar(db.select(User).filter_by(username="respondent"))
    user.active = False
    db.session.commit()
    assert "正しくありません" in auth.login("respondent").get_data(as_text=True)


@pytest.mark.parametrize("username", ["admin", "auditor"])
def test_security_office_and_auditor_see_every_campaign(auth, demo_client, username):
    auth.login(username)
    page = demo_client.get("/").get_data(as_text=True)
    for code in (
        "2017-emergency-assets",
        "2017-emergency-systems",
        "2017-emergency-contracts",
        "2026-annual-assets",
    ):
        assert code in page
    assert "139/139" in page and "151/151" in page and "74/74" in page


def test_manager_sees_progress_of_their_own_department_only(auth, demo_client):
    auth.login("manager")  # 区民部: 5 divisions and 4 regional offices
    page = demo_client.get("/").get_data(as_text=True)
    assert "9/9" in page  # the 2017 assets campaign, counted on the subtree
    assert "139/139" not in page


def test_respondent_sees_their_own_assignments(auth, demo_client):
    auth.login("respondent")
    page = demo_client.get("/").get_data(as_text=True)
    assert "担当している点検" in page
    assert "令和8年度 情報資産の取扱状況 自己点検" in page
    assert "回答中" in page
    assert "税務課" not in page  # another division's questionnaire


def test_contractor_sees_only_its_own_contracts(auth, demo_client, demo_app):
    from survey.extensions import db
    from survey.models import Contract, User

    auth.login("contractor")
    page = demo_client.get("/").get_data(as_text=True)
    me = db.session.scalar(db.select(User).filter_by(username="contractor"))
    contracts = db.session.scalars(db.select(Contract)).all()
    own = [c.title for c in contracts if c.contractor_id == me.contractor_id]
    others = [c.title for c in contracts if c.contractor_id != me.contractor_id]
    assert own and all(f">{title}</a></td>" in page for title in own)
    assert not any(f">{title}</a></td>" in page for title in others)
    assert "2017-emergency-assets" not in page  # divisions' questionnaires are not theirs


def test_dates_are_shown_in_reiwa_and_western_form(auth, demo_client):
    auth.login("admin")
    page = demo_client.get("/").get_data(as_text=True)
    assert "令和8年11月2日 (2026-11-02)" in page
    assert "平成29年1月13日 (2017-01-13)" in page


def test_unknown_page_is_a_japanese_404(auth, demo_client):
    auth.login("respondent")
    response = demo_client.get("/no-such-page")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.get_data(as_text=True)
