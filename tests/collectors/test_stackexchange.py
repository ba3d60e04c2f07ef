"""Stack Exchange collector against a real local server answering like API 2.3."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.base import CollectorError
from collectors.stackexchange import StackExchangeCollector, StackExchangeConfig
from tests.collectors.conftest import Reply, ScriptedServer, SeenRequest, fixture_json

SEARCH = "/2.3/search/advanced"
ANSWERS = "/2.3/questions/79230011/answers"
T = 1764669600  # creation_date of the newest question in the fixtures


def stackexchange(server: ScriptedServer, **overrides) -> StackExchangeCollector:
    fields = {
        "name": "so-lumio",
        "queries": ["lumio"],
        "local": True,
        "attempts": 2,
        "max_wait_seconds": 0.05,
        "requests_per_second": 1000,
        "base_url": server.url,
        **overrides,
    }
    return StackExchangeCollector(StackExchangeConfig(**fields))


def serve(server: ScriptedServer) -> None:
    pages = {str(n): fixture_json("stackexchange", f"search_page{n}.json") for n in (1, 2)}
    server.route(SEARCH, lambda request: Reply(200, pages[request.arg("page")]))
    server.script(ANSWERS, Reply(200, fixture_json("stackexchange", "answers.json")))


class FakeSearch:
    """search/advanced over a fixed set of questions: fromdate (inclusive), newest first, pages."""

    def __init__(self, questions: list[dict]) -> None:
        self.questions = questions

    def __call__(self, request: SeenRequest) -> Reply:
        items = sorted(self.questions, key=lambda q: -q.get("creation_date", 0))
        if request.arg("fromdate"):
            items = [q for q in items if q.get("creation_date", 0) >= int(request.arg("fromdate"))]
        size, page = int(request.arg("pagesize")), int(request.arg("page"))
        chunk = items[(page - 1) * size : page * size]
        return Reply(200, {"items": chunk, "has_more": page * size < len(items), "quota_remaining": 250})


def all_questions() -> list[dict]:
    items = [i for n in (1, 2) for i in fixture_json("stackexchange", f"search_page{n}.json")["items"]]
    return [i for i in items if "question_id" in i]


def test_questions_over_two_pages_then_their_answers(http_server: ScriptedServer):
    serve(http_server)
    result = stackexchange(http_server).fetch({})
    by_id = {p.native_id: p for p in result.posts}
    assert list(by_id) == ["79230011", "79229980", "79200001", "79230100", "79230055"]
    question = by_id["79230011"]
    assert question.title == 'Lumio Box API returns 403 "forbidden" since the firmware update'
    assert question.text == (
        "Since the Lumio Box firmware 5.2, calls to /api/v1/wan fail:\n\nHTTP/1.1 403 Forbidden\n\nSee this."
    )
    assert question.url.startswith("https://stackoverflow.com/questions/79230011/")
    assert question.author.id == "2911" and question.author.display_name == "Mélanie D."
    assert question.engagement.replies == 2 and question.engagement.likes == 3
    assert question.created_at == datetime.fromtimestamp(T, UTC)
    assert question.raw["site"] == "stackoverflow"
    # a deleted account keeps its display name, without an id
    assert by_id["79229980"].author.id is None and by_id["79229980"].author.display_name == "user12345"
    accepted = by_id["79230100"]
    assert accepted.thread.parent_id == "79230011" and accepted.thread.root_id == "79230011"
    assert accepted.url == "https://stackoverflow.com/a/79230100"
    assert accepted.text == "Firmware 5.2 requires a token: send Authorization: Bearer <token>."
    assert result.problems == ["so-lumio: lumio: page 1 item 3 (?): no question_id or creation_date"]
    sent = http_server.seen(SEARCH)
    assert [r.arg("page") for r in sent] == ["1", "2"]
    assert (sent[0].arg("sort"), sent[0].arg("order"), sent[0].arg("filter")) == (
        "creation",
        "desc",
        "withbody",
    )
    assert sent[0].arg("site") == "stackoverflow" and sent[0].arg("fromdate") is None
    # only the question with answers was asked for its answers
    assert len(http_server.seen(ANSWERS)) == 1
    assert result.cursor == {"lumio|created": str(T), "lumio|ids": "79230011"}


def test_pages_stop_at_max_pages(http_server: ScriptedServer):
    serve(http_server)
    result = stackexchange(http_server, max_pages=1, answers=False).fetch({})
    assert [p.native_id for p in result.posts] == ["79230011", "79229980"]
    assert len(http_server.seen(SEARCH)) == 1


def test_second_run_sends_fromdate_and_returns_only_new_questions(http_server: ScriptedServer):
    search = FakeSearch(all_questions())
    http_server.route(SEARCH, search)
    collector = stackexchange(http_server, answers=False, page_size=2)
    first = collector.fetch({})
    assert len(first.posts) == 3
    second = collector.fetch(first.cursor)
    assert second.posts == [] and second.problems == []
    assert http_server.seen(SEARCH)[-1].arg("fromdate") == str(T)
    newer = {**all_questions()[0], "question_id": 79231000, "creation_date": T + 60, "title": "Lumio DNS"}
    search.questions.append(newer)
    third = collector.fetch(second.cursor)
    assert [p.native_id for p in third.posts] == ["79231000"]


def test_since_is_sent_as_fromdate(http_server: ScriptedServer):
    http_server.route(SEARCH, FakeSearch(all_questions()))
    result = stackexchange(http_server, answers=False).fetch({}, since=datetime.fromtimestamp(T - 6000, UTC))
    assert http_server.seen(SEARCH)[0].arg("fromdate") == str(T - 6000)
    assert [p.native_id for p in result.posts] == ["79230011", "79229980"]


def test_backoff_is_waited_out_before_the_next_call_to_that_method(http_server: ScriptedServer):
    page1 = {**fixture_json("stackexchange", "search_page1.json"), "backoff": 1}
    http_server.script(
        SEARCH, Reply(200, page1), Reply(200, fixture_json("stackexchange", "search_page2.json"))
    )
    result = stackexchange(http_server, answers=False).fetch({})
    assert len(result.posts) == 3
    first, second = http_server.seen(SEARCH)
    # a lower bound: the API asked for one second of quiet on this method
    assert second.at - first.at >= 0.95


def test_a_spent_quota_keeps_what_was_read_and_stops_with_one_line(http_server: ScriptedServer):
    page1 = {**fixture_json("stackexchange", "search_page1.json"), "quota_remaining": 0}
    http_server.script(SEARCH, Reply(200, page1))
    result = stackexchange(http_server, queries=["lumio", "arcadia"]).fetch({})
    assert [p.native_id for p in result.posts] == ["79230011", "79229980"]
    assert (
        result.problems[-1]
        == "so-lumio: daily quota of 300 requests used up, the rest waits for the next run"
    )
    assert len(http_server.seen()) == 1
    # the interrupted query is read again next run: its cursor did not move
    assert result.cursor == {}


def test_an_api_error_is_one_line_with_its_name_and_message(http_server: ScriptedServer):
    http_server.script(SEARCH, Reply(400, fixture_json("stackexchange", "throttle_violation.json")))
    with pytest.raises(CollectorError) as refused:
        stackexchange(http_server).fetch({})
    assert str(refused.value) == (
        f"so-lumio: {http_server.url}{SEARCH}: HTTP 400: throttle_violation: "
        "too many requests from this IP, more requests available in 77914 seconds"
    )


def test_the_app_key_comes_from_the_environment_and_never_shows(http_server: ScriptedServer, monkeypatch):
    monkeypatch.setenv("STACKEXCHANGE_KEY", "k3y-U4dv8")
    http_server.script(
        SEARCH, Reply(400, {"error_id": 400, "error_name": "bad_parameter", "error_message": "q"})
    )
    with pytest.raises(CollectorError) as refused:
        stackexchange(http_server).fetch({})
    assert http_server.seen(SEARCH)[0].arg("key") == "k3y-U4dv8"
    assert "k3y" not in str(refused.value)


def test_429_with_retry_after_then_success(http_server: ScriptedServer):
    http_server.script(
        SEARCH,
        Reply(429, "Too Many Requests", headers={"Retry-After": "0"}),
        Reply(200, fixture_json("stackexchange", "search_page2.json")),
    )
    result = stackexchange(http_server).fetch({})
    assert [p.native_id for p in result.posts] == ["79200001"]


def test_server_errors_exhausted_become_one_collector_error(http_server: ScriptedServer):
    http_server.script(SEARCH, Reply(503, "<html>Service Unavailable</html>", content_type="text/html"))
    with pytest.raises(CollectorError, match="so-lumio: .*/2.3/search/advanced: HTTP 503 after 2 attempts"):
        stackexchange(http_server).fetch({})


@pytest.mark.parametrize(
    ("body", "reason"), [(b"\x1f\x8b\x08 not json", "not JSON"), ({"quota_remaining": 10}, "no items")]
)
def test_a_malformed_body_is_one_collector_error(http_server: ScriptedServer, body, reason):
    http_server.script(SEARCH, Reply(200, body, content_type="application/json"))
    with pytest.raises(CollectorError, match=reason):
        stackexchange(http_server).fetch({})


def test_an_answer_to_an_unknown_question_is_a_problem_and_the_rest_are_kept(http_server: ScriptedServer):
    answers = fixture_json("stackexchange", "answers.json")
    answers["items"][1]["question_id"] = 1
    http_server.route(SEARCH, FakeSearch(all_questions()))
    http_server.script(ANSWERS, Reply(200, answers))
    result = stackexchange(http_server).fetch({})
    assert "79230100" in {p.native_id for p in result.posts}
    assert "so-lumio: answers page 1 item 2 (79230055): no answer_id or unknown question" in result.problems
