"""The layout of indices on a cluster: shards, replicas and a lifecycle policy from config.yaml, and the
templates and ILM policy in deploy/elasticsearch/ kept equal to what Écoute installs."""

from __future__ import annotations

import importlib.util
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.config import IndexConfig
from core.errors import ConfigError
from index.alerts import ALERTS
from index.client import IndexNames
from index.mentions import get_mention, index_mentions
from index.periods import MENTIONS, mention_index, period_layout
from index.schema import drop_indices, ensure_indices, index_templates
from tests.factories import make_mention

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "elasticsearch"


def _write_templates_module():
    spec = importlib.util.spec_from_file_location("write_templates", DEPLOY / "write_templates.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_templates_in_deploy_are_the_ones_ecoute_installs():
    """Someone installing the templates ahead of Écoute gets exactly what it would install itself."""
    expected = _write_templates_module().template_files()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in (DEPLOY / "templates").glob("*.json")}
    assert on_disk == expected, "run: python deploy/elasticsearch/write_templates.py"
    mentions = json.loads(on_disk["ecoute-mentions-template.json"])
    assert mentions["template"]["settings"]["index.lifecycle.name"] == "ecoute-mentions"
    assert mentions["template"]["aliases"] == {"ecoute-mentions": {}}


def test_the_lifecycle_policy_never_freezes_or_deletes_old_mentions():
    """Triage, re-scoring and erasure write to old mentions, and retention is Écoute's own per source."""
    policy = json.loads((DEPLOY / "ilm-policy.json").read_text(encoding="utf-8"))["policy"]
    actions = {name for phase in policy["phases"].values() for name in phase["actions"]}
    assert "delete" not in policy["phases"]
    assert not actions & {"readonly", "freeze", "searchable_snapshot", "shrink", "delete"}
    assert policy["phases"]["warm"]["actions"]["forcemerge"] == {"max_num_segments": 1}


def test_only_the_mentions_period_indices_carry_the_lifecycle_policy():
    names = IndexNames("acme")
    layout = IndexConfig(shards=3, replicas=2, lifecycle_policy="acme-mentions")
    templates = {t.alias: t.body["template"]["settings"] for t in index_templates(names, layout)}
    assert templates[MENTIONS.alias(names)] == {
        "number_of_shards": 3,
        "number_of_replicas": 2,
        "index.lifecycle.name": "acme-mentions",
    }
    assert templates[ALERTS.alias(names)] == {"number_of_shards": 3, "number_of_replicas": 2}
    assert len(templates) == 11


def test_a_new_period_index_takes_the_configured_shards_and_replicas(es: Elasticsearch, names: IndexNames):
    """Settings reach indices made from now on: here the first mention of an older month makes one."""
    ensure_indices(es, names, IndexConfig(shards=2, replicas=1))
    old = datetime(2025, 1, 15, tzinfo=UTC)
    index_mentions(es, names, [make_mention("jan", created_at=old)])
    index = mention_index(names, old)
    settings = es.indices.get_settings(index=index)[index]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("2", "1")
    assert get_mention(es, names, make_mention("jan").id) is not None


def test_index_status_shows_each_period_index_with_the_layout_it_was_made_with(
    es: Elasticsearch, names: IndexNames
):
    """After a config change, the older indices keep their layout: the status says which has which."""
    ensure_indices(es, names, IndexConfig(shards=2, replicas=1))
    jan, feb = datetime(2025, 1, 15, tzinfo=UTC), datetime(2025, 2, 15, tzinfo=UTC)
    index_mentions(es, names, [make_mention("jan-1", created_at=jan), make_mention("jan-2", created_at=jan)])
    ensure_indices(es, names, IndexConfig(shards=1, replicas=0))
    index_mentions(es, names, [make_mention("feb", created_at=feb)])
    es.indices.refresh(index=MENTIONS.alias(names))
    layout = {p.name: p for p in period_layout(es, names)}
    old, new = layout[mention_index(names, jan)], layout[mention_index(names, feb)]
    assert (old.documents, old.shards, old.replicas) == (2, 2, 1)
    assert (new.documents, new.shards, new.replicas) == (1, 1, 0)
    assert old.line().endswith(": 2 mentions, 2 shards, 1 replica, no lifecycle policy")


def test_a_lifecycle_policy_on_the_stand_in_is_refused_in_one_line(es: Elasticsearch):
    """The stand-in has no lifecycle management: a policy set there would silently do nothing."""
    fresh = IndexNames(f"t{uuid.uuid4().hex[:10]}")
    try:
        with pytest.raises(ConfigError) as refused:
            ensure_indices(es, fresh, IndexConfig(lifecycle_policy="ecoute-mentions"))
        message = str(refused.value)
        assert message.startswith("index.lifecycle_policy: this index has no lifecycle management")
        assert "\n" not in message
        assert not es.indices.exists_alias(name=MENTIONS.alias(fresh))  # nothing made half-way
    finally:
        drop_indices(es, fresh)
