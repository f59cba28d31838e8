"""Helpers for the browser tests (real Chromium through Playwright, see the ``browser`` fixture)."""

from __future__ import annotations

from typing import Any

from kefu.demo import DEMO_PASSWORD


def login(page: Any, base_url: str, agent_no: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login form and wait for the page it leads to (the workbench, or the
    login form again with its message). ``base_url``: the live server's address."""
    page.goto(f"{base_url}/login")
    page.get_by_label("工号").fill(agent_no)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
