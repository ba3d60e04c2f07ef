"""Dashboard pages, each run as a script by st.navigation in app.py; PAGES is the one list of them.

Adding a page means adding its row here, its module beside this file and its strings in locales/:
the navigation, the role checks, the admin's list of who sees what and the links between pages all
read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERY_ROLE = frozenset({"community_manager", "marketer", "sales", "admin"})
ANALYSTS = frozenset({"community_manager", "marketer", "admin"})
"""Every role but sales, who read only the accounts they own."""


@dataclass(frozen=True)
class Page:
    """One page: its key (the last part of its address), script, who may open it, and its sidebar entry."""

    key: str
    script: str  # relative to dashboard/app.py, as st.Page, st.page_link and st.switch_page take it
    roles: frozenset[str]
    icon: str
    title: str  # the text key of its name in the sidebar


PAGES: tuple[Page, ...] = (
    Page("inbox", "pages/inbox.py", ANALYSTS, ":material/inbox:", "nav_inbox"),
    Page("insights", "pages/insights.py", ANALYSTS, ":material/monitoring:", "nav_insights"),
    Page("customers", "pages/customers.py", EVERY_ROLE, ":material/person_search:", "nav_customers"),
    Page("alerts", "pages/alerts.py", EVERY_ROLE, ":material/notifications:", "nav_alerts"),
    Page("team", "pages/team.py", ANALYSTS, ":material/groups:", "nav_team"),
    Page("admin", "pages/admin.py", frozenset({"admin"}), ":material/admin_panel_settings:", "nav_admin"),
    Page("review", "pages/review.py", ANALYSTS, ":material/fact_check:", "nav_review"),
)
"""In the order of the sidebar; the first a role may open is where it lands after signing in."""

_BY_KEY = {page.key: page for page in PAGES}


def page_named(key: str) -> Page:
    """The row of the page `key`; a KeyError for a key missing from PAGES."""
    return _BY_KEY[key]


def pages_for(role: str) -> list[Page]:
    """The pages `role` may open, in the order of the sidebar."""
    return [p for p in PAGES if role in p.roles]
