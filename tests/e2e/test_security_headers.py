"""The Content-Security-Policy, in real Chromium: PyScript runs the whole demo under it."""

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.e2e.support import Interpreter, ServerProcess, expect_every_slot, log_in

# Collects the page's own reports of blocked content, including ones the console omits.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(
        `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
        + ` at ${event.sourceFile}:${event.lineNumber}`
    );
});
"""


def _violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_the_demo_runs_under_the_policy_without_a_single_violation(
    page: Page, context: BrowserContext, interpreter: Interpreter, server: ServerProcess
) -> None:
    console: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            console.append(message.text)

    context.on("console", on_console)
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    page.add_init_script(RECORD_VIOLATIONS)
    answer = page.request.get(interpreter.url("/login", server.url))
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]

    log_in(page, interpreter)
    page.get_by_role("button", name="Break token").click()
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)
    expect(page.locator("#refresh-count")).not_to_have_text("0")

    assert _violations(page) == []
    assert console == []
    # Tokens and the password travel in headers and bodies only, never in a URL.
    secrets = [page.evaluate(f"localStorage.getItem('{key}')") for key in ("token", "refreshToken")]
    assert all(secrets)
    leaks = [url for url in urls if any(s in url for s in [*secrets, "Mypass1"])]
    assert leaks == []
    assert not [url for url in urls if "?" in url and ("/api/" in url or "/authorization/" in url)]


def test_an_inline_script_injected_into_the_page_is_refused(
    browser: Browser, interpreter: Interpreter, server: ServerProcess
) -> None:
    # A context of its own: the refusal is logged as a console error, which is the point here
    # and would fail the clean-console check that guards every other test.
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        log_in(page, interpreter)

        ran = page.evaluate(
            """() => {
                window.__injected = false;
                const script = document.createElement("script");
                script.textContent = "window.__injected = true";
                document.body.append(script);
                return window.__injected;
            }"""
        )

        assert ran is False
        assert any(v.startswith("script-src") for v in _violations(page)), _violations(page)
    finally:
        context.close()
