"""A clerk answers by keyboard alone: every control the Tab key reaches is in sight (never under
the sticky save bar), and a refused submission puts the focus on the list of what to fix."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.steps import open_own_questionnaire, sign_in, tab_to

# Where the focus is, once the page has drawn the next frame, and whether the sticky bar covers
# any of it (the bar's own controls are on top of it by design).
FOCUS_UNDER_BAR = """async () => {
  await new Promise((drawn) => requestAnimationFrame(() => requestAnimationFrame(drawn)));
  const focused = document.activeElement;
  const bar = document.querySelector(".form-actions.sticky");
  if (bar.contains(focused)) return { done: true };
  const box = focused.getBoundingClientRect();
  const cover = bar.getBoundingClientRect();
  const name = focused.closest("fieldset.item")?.dataset.number || focused.tagName;
  return {
    done: false,
    where: `${name} ${focused.tagName} ${focused.name || ""}`,
    hidden: box.bottom > cover.top && box.top < cover.bottom,
    box: [box.top, box.bottom],
    bar: [cover.top, cover.bottom],
  };
}"""


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 900}, {"width": 360, "height": 740}], ids=["pc", "phone"]
)
def test_tab_through_the_questionnaire_never_hides_the_focus_under_the_save_bar(
    live_server, page, shot, viewport
):
    page.set_viewport_size(viewport)
    sign_in(page, live_server, "respondent")
    open_own_questionnaire(page, live_server)
    tab_to(page, ".skip-link")
    page.keyboard.press("Enter")  # 本文へ移動: past the menu
    # The jump to #main moves the focus when Chromium has handled it; a Tab pressed before that
    # moves on from the skip link and is then undone, leaving the focus on <body>.
    page.wait_for_function("() => !document.activeElement.matches('.skip-link')")

    hidden = []
    for _ in range(400):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_UNDER_BAR)
        if focus["done"]:
            break
        if focus["hidden"]:
            hidden.append(focus)
            shot(page, f"under-the-bar-{len(hidden)}")
    else:
        raise AssertionError("Tab never reaches the save bar")
    assert not hidden, "focus under the sticky save bar:\n" + "\n".join(map(str, hidden))


def test_refused_submission_moves_the_focus_to_the_problems(live_server, page, shot):
    sign_in(page, live_server, "respondent")
    open_own_questionnaire(page, live_server)
    tab_to(page, "button[value=submit]")
    page.keyboard.press("Enter")  # nothing answered yet: the server refuses

    problems = page.get_by_role("alert").filter(has_text="確認が必要な項目")
    expect(problems).to_be_visible()
    expect(problems).to_be_focused()
    shot(page, "refused-focus-on-problems")
    # The first Tab leads to the first problem's link, and from there to its item.
    page.keyboard.press("Tab")
    first = problems.get_by_role("link").first
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    target = first.get_attribute("href")
    expect(page.locator(target)).to_be_in_viewport()
    assert_accessible(page, "a refused questionnaire")
