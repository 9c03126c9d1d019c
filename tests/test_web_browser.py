"""The reviewers' desk in a real browser (issue 12): headless Chromium, driven by selenium, on `green-award serve`.

A reviewer logs in (from the keyboard), uploads the demo's declarations plus a tampered one, sees the tampered one
flagged, reduces one award, and finds the decision on the enterprise's page. Screenshots at 1366x768 are saved in
``$GREEN_AWARD_SCREENSHOTS`` (default: the test's temporary folder) for people to look at.

Skipped without Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them), unless
``GREEN_AWARD_REQUIRE_BROWSER=1``, which makes their absence a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from web_support import demo_declarations, tamper_award

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
COMMAND = str(Path(sys.executable).parent / "green-award")
NAME, PASSWORD = "王审核", "long-enough-password"

pytestmark = pytest.mark.slow


def need_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install '.[test]')")
    if missing:
        why = f"no browser to drive: {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("GREEN_AWARD_REQUIRE_BROWSER") == "1":
            pytest.fail(why + "; GREEN_AWARD_REQUIRE_BROWSER=1")
        pytest.skip(why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`green-award ledger init`, `users add`, `serve`, as a district office starts it; its base URL."""
    ledger = str(tmp_path / "ledger.db")
    subprocess.run([COMMAND, "ledger", "init", ledger], check=True, capture_output=True)
    subprocess.run(
        [COMMAND, "users", "add", NAME, "--admin", "--password-stdin", "--ledger", ledger],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    port = free_port()
    with open(tmp_path / "server.log", "w") as log:
        process = subprocess.Popen(
            [COMMAND, "serve", "--ledger", ledger, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/login", timeout=2).close()
                    break
                except OSError:
                    assert process.poll() is None, (tmp_path / "server.log").read_text()
                    time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1366,768",
        "--lang=zh-CN",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(1366, 768)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_reviewer_reviews_the_demo_in_a_browser(server, browser, tmp_path):
    try:
        review_in_the_browser(server, browser, tmp_path)
    except Exception:
        browser.save_screenshot(str(tmp_path / "failure.png"))
        print("the page at the failure:", browser.current_url, tmp_path / "failure.png")
        raise


def review_in_the_browser(server, browser, tmp_path) -> None:
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    shots = Path(os.environ.get("GREEN_AWARD_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, 120, ignored_exceptions=[StaleElementReferenceException])  # pages reload while polled

    def shot(name: str) -> None:
        browser.save_screenshot(str(shots / f"{name}.png"))

    def text() -> str:
        """The page's text, read in one call (no element handle that a reload in between could make stale)."""
        try:
            return browser.execute_script("return document.body ? document.body.innerText : ''") or ""
        except WebDriverException:  # the page is being replaced (the batch page reloads itself when done)
            return ""

    # the declarations: the demo's, plus one of them tampered with (its award replaced by a larger constant)
    folder = tmp_path / "declarations"
    files = demo_declarations(folder)
    victim = next(p for p in files if "tongzhou-6" in p.name)
    tampered = tmp_path / "upload" / "篡改的申报表 tampered.xlsx"
    tampered.parent.mkdir()
    tampered.write_bytes(tamper_award(victim))
    victim.unlink()  # the tampered copy replaces it in the batch
    files = [p for p in files if p != victim] + [tampered]

    # anonymous: the login page; log in from the keyboard
    browser.get(server + "/")
    wait.until(ready.presence_of_element_located((By.ID, "username")))
    assert "/login" in browser.current_url
    shot("01-login")
    active = browser.switch_to.active_element
    assert active.get_attribute("id") == "username"  # the focus starts in the first field
    active.send_keys(NAME, Keys.TAB)
    browser.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "form.logout")))
    assert NAME in text() and "收件箱" in text()

    # upload the batch through the file picker
    browser.find_element(By.LINK_TEXT, "上传与批次 Upload & batches").click()
    picker = wait.until(ready.presence_of_element_located((By.ID, "files")))
    picker.send_keys("\n".join(str(p) for p in files))
    assert f"{len(files)} 个文件" in browser.find_element(By.CSS_SELECTOR, "[data-chosen]").text
    shot("02-upload")
    browser.find_element(By.CSS_SELECTOR, "form[action='/batches'] button[type=submit]").click()
    wait.until(lambda d: "审核结果 Review results" in text())
    shot("03-batch")
    rows = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert len(rows) == len(files)
    flagged = [r for r in rows if tampered.name in r.text]
    assert len(flagged) == 1 and "不通过 fail" in flagged[0].text
    assert sum("通过 pass" in r.text and "不通过" not in r.text for r in rows) == len(files) - 1

    # the tampered one: flagged in the inbox, its findings on its page
    browser.find_element(By.LINK_TEXT, "收件箱 Inbox").click()
    wait.until(ready.presence_of_element_located((By.ID, "f-state")))
    shot("04-inbox")
    browser.find_element(By.ID, "f-flagged").click()
    browser.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    wait.until(lambda d: "flagged=1" in d.current_url)
    shot("05-inbox-flagged")
    assert "未通过" in text()
    browser.get(server + "/?state=failed")
    link = browser.find_element(By.CSS_SELECTOR, "table tbody tr td a")
    link.click()
    wait.until(ready.presence_of_element_located((By.ID, "findings-h")))
    shot("06-tampered")
    browser.execute_script("document.getElementById('findings-h').scrollIntoView()")
    shot("06b-tampered-findings")
    body = text()
    assert tampered.name in body and "篡改" in body and "Tampered" in body and "问题 problem" in body

    # reduce one award: the first passing submission of the inbox
    browser.get(server + "/?state=passed&sort=declared&order=desc")
    first = browser.find_element(By.CSS_SELECTOR, "table tbody tr td a")
    number = first.text.lstrip("#")
    first.click()
    wait.until(ready.presence_of_element_located((By.ID, "decide-h")))
    allowed = browser.find_element(By.XPATH, "//section[@aria-labelledby='decide-h']//p/strong").text
    shot("07-submission")
    browser.execute_script("document.getElementById('earlier-h').scrollIntoView()")
    shot("07b-checked-against")
    # from the keyboard: the first choice, an arrow to "reduce", Tab to the amount, the reason, the button
    amount = browser.find_element(By.ID, "amount")
    assert not amount.is_displayed()  # asked for only to reduce
    browser.execute_script("document.querySelector('input[name=action][value=grant]').focus()")
    browser.switch_to.active_element.send_keys(Keys.SPACE, Keys.ARROW_DOWN)
    assert browser.find_element(By.CSS_SELECTOR, "input[name=action][value=reduce]").is_selected()
    assert amount.is_displayed()
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "amount"
    browser.switch_to.active_element.send_keys("300000", Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "reason"
    browser.switch_to.active_element.send_keys("发票金额不符 the invoices do not match", Keys.TAB)
    shot("07c-keyboard-focus")
    focused = browser.switch_to.active_element
    assert focused.tag_name == "button" and "记录决定" in focused.text
    focused.send_keys(Keys.ENTER)
    wait.until(lambda d: "已记录决定" in text())
    shot("08-decided")
    assert "300,000.00" in text() and "已核减" in text() and allowed != "300,000.00"

    # the decision on the enterprise's page
    browser.find_element(By.CSS_SELECTOR, "dl.facts dd a[href^='/enterprises/']").click()
    wait.until(lambda d: "按年度待支付" in text())
    shot("09-enterprise")
    page = text()
    assert f"#{number}" in page and "核减 reduced 300,000.00" in page and "发票金额不符" in page and NAME in page

    # the catalog, with a clause's source sentence
    browser.find_element(By.LINK_TEXT, "政策条款 Policies").click()
    browser.find_element(By.LINK_TEXT, "tongzhou:3").click()
    wait.until(lambda d: "原文" in text())
    shot("10-clause")
    assert re.search(r"30%", text())

    # out: the inbox asks for a login again
    browser.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait.until(ready.presence_of_element_located((By.ID, "username")))
    browser.get(server + "/")
    assert "/login" in browser.current_url
