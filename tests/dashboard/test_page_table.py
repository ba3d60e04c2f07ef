"""The table of pages: every page module is in it, checks its own row's roles and has a sidebar name."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from dashboard.pages import PAGES, page_named, pages_for
from dashboard.text import STRINGS
from ecoute.config import Role
from tests.dashboard.helpers import APP

DASHBOARD = APP.parent


def test_every_page_module_has_a_row_and_every_row_a_module():
    modules = {p.stem for p in (DASHBOARD / "pages").glob("*.py") if p.stem != "__init__"}
    assert {page.key for page in PAGES} == modules
    assert all((DASHBOARD / page.script) == DASHBOARD / "pages" / f"{page.key}.py" for page in PAGES)


def test_every_page_checks_the_roles_of_its_own_row():
    for page in PAGES:
        source = Path(DASHBOARD / page.script).read_text(encoding="utf-8")
        assert f'require_page("{page.key}", ' in source, page.key


def test_every_page_has_a_sidebar_name_in_both_languages():
    assert [page.title for page in PAGES if any(page.title not in STRINGS[lang] for lang in STRINGS)] == []


def test_the_roles_of_the_table_are_the_configured_roles():
    assert set().union(*(page.roles for page in PAGES)) == set(get_args(Role))


def test_each_role_sees_its_pages_in_sidebar_order():
    assert [p.key for p in pages_for("sales")] == ["customers", "alerts"]
    assert [p.key for p in pages_for("marketer")] == [
        "inbox",
        "insights",
        "customers",
        "alerts",
        "team",
        "review",
    ]
    assert [p.key for p in pages_for("admin")] == [p.key for p in PAGES]
    assert page_named("admin").roles == {"admin"}
