"""Steps that several journeys take."""

from playwright.sync_api import expect

from survey.demo import DEMO_PASSWORD


def sign_in(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ホーム")).to_be_visible()


def menu(page, name: str) -> None:
    """Follows a link of the main menu (other links may carry the same name, e.g. breadcrumbs)."""
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name=name).click()
