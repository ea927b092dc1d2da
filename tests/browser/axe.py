"""axe-core, the accessibility checker, run inside a page the browser tests have open.

axe.min.js comes from the npm registry through tests/browser/package-lock.json (`make test`
installs it); it is evaluated in the page from the test, never served by the app: users sit on
closed networks, and the app's CSP allows no script but its own."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA: the level JIS X 8341-3 asks of public bodies.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


def violations(page) -> list[dict]:
    """What axe finds against WCAG 2.1 A/AA on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        if not AXE.exists():
            raise AssertionError(f"{AXE} is missing: `make test` installs it (make browser-deps)")
        page.evaluate("source => { (0, eval)(source); }", AXE.read_text(encoding="utf-8"))
    return page.evaluate(RUN, WCAG_21_AA)


def assert_accessible(page, where: str) -> None:
    """Fails with each violation's rule id and the elements it was found on."""
    found = violations(page)
    report = "\n".join(f"  {v['id']} ({v['help']}): {', '.join(v['targets'][:8])}" for v in found)
    assert not found, f"axe finds WCAG 2.1 A/AA violations on {where} ({page.url}):\n{report}"
