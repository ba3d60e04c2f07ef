"""Keyboard shortcuts in the Inbox. Streamlit has no key handler, so a small script in the page maps keys to
clicks on each card's own buttons (the mouse keeps every action); `?` opens the list of shortcuts, which
is also an expander anyone can open. Keys never act while the person types in a field (Escape leaves it).
"""

from __future__ import annotations

import json

import streamlit as st

from dashboard.text import t

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("j", "shortcut_next"),
    ("k", "shortcut_previous"),
    ("a", "shortcut_assign"),
    ("c", "shortcut_close"),
    ("o", "shortcut_open"),
    ("r", "shortcut_reply"),
    ("?", "shortcut_help"),
)
"""Each key and the text key of what it does, in the order the list shows them."""
TRIAGE_ONLY = frozenset({"a", "c", "r"})
"""Keys that press buttons only those who triage have: not listed for the others."""

ITEM_PREFIX = "inbox_item_"
HELP_KEY = "inbox_shortcuts"


def item_key(mention_id: str) -> str:
    """The key of the container holding one card and its buttons: the script finds cards by it."""
    return f"{ITEM_PREFIX}{mention_id}"


def shortcuts_for(can_triage: bool) -> list[tuple[str, str]]:
    """The shortcuts that do something for this person."""
    return [(key, action) for key, action in SHORTCUTS if can_triage or key not in TRIAGE_ONLY]


def help_list(can_triage: bool) -> None:
    """The shortcuts, one line each, in an expander that `?` opens and closes."""
    with st.container(key=HELP_KEY), st.expander(t("shortcuts_title"), icon=":material/keyboard:"):
        st.markdown("\n".join(f"- `{key}` {t(action)}" for key, action in shortcuts_for(can_triage)))
        st.caption(t("shortcuts_not_typing"))


def key_script(closed_position: int) -> str:
    """The snippet that listens for the keys; installed once per tab, inert on pages without cards."""
    config = json.dumps({"item": ITEM_PREFIX, "help": HELP_KEY, "closed": closed_position})
    return f"<script>{_SCRIPT.replace('CONFIG', config)}</script>"


def install(closed_position: int) -> None:
    """Put the key script in the page (the sidebar, where it takes no room)."""
    with st.sidebar:
        st.html(key_script(closed_position), unsafe_allow_javascript=True)


_SCRIPT = """
(() => {
  const config = CONFIG;
  if (window.ecouteShortcuts) return;
  window.ecouteShortcuts = config;
  const mark = document.createElement("style");
  document.head.appendChild(mark);
  const pattern = new RegExp(`st-key-${config.item}(\\\\S+)`);
  const cards = () => [...document.querySelectorAll(`[class*="st-key-${config.item}"]`)];
  const idOf = (card) => (card.className.match(pattern) || [])[1];
  let current = null;
  const notText = ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"];
  const typing = (el) =>
    el && (el.isContentEditable || /^(TEXTAREA|SELECT)$/.test(el.tagName) ||
      (el.tagName === "INPUT" && !notText.includes(el.type)));
  const choose = (card) => {
    current = idOf(card);
    mark.textContent = `.st-key-${config.item}${current} {outline: 2px solid #1c83e1; outline-offset: 6px;
      border-radius: 0.5rem}`;
    card.scrollIntoView({ block: "center" });
    const toggle = card.querySelector('[class*="st-key-triage_toggle_"] button');
    if (toggle) toggle.focus({ preventScroll: true });
  };
  const chosen = () => {
    const all = cards();
    const card = all.find((c) => idOf(c) === current) || all[0];
    if (card && idOf(card) !== current) choose(card);
    return card;
  };
  const move = (step) => {
    const all = cards();
    const at = all.findIndex((c) => idOf(c) === current);
    const next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1);
    if (all[next]) choose(all[next]);
  };
  const press = (selector, pick = (found) => found[0]) => {
    const card = chosen();
    const target = card && pick([...card.querySelectorAll(selector)]);
    if (target && !target.disabled) target.click();
  };
  const reply = () => {
    const card = chosen();
    const panel = card && card.querySelector('[class*="st-key-reply_open_"] details');
    if (!panel) return;
    if (!panel.open) panel.querySelector("summary").click();
    let tries = 0;
    const focus = setInterval(() => {
      const box = panel.querySelector("textarea:not([disabled])");
      if (box || ++tries > 50) clearInterval(focus);
      if (box) box.focus();
    }, 100);
  };
  const actions = {
    j: () => move(1),
    k: () => move(-1),
    a: () => press('[class*="st-key-triage_me_"] button'),
    c: () =>
      press('[class*="st-key-triage_quick_"] button', (found) => {
        const closed = found[config.closed];
        return closed && closed.getAttribute("aria-checked") !== "true" ? closed : null;
      }),
    o: () => press('[data-testid="stLinkButton"] a'),
    r: reply,
    "?": () => {
      const help = document.querySelector(`.st-key-${config.help} summary`);
      if (help) {
        help.click();
        help.focus();
        help.scrollIntoView({ block: "nearest" });
      }
    },
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const action = actions[event.key];
    if (!action || !cards().length) return;
    event.preventDefault();
    action();
  });
})();
"""
