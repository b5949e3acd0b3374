"""The data behind each studio page, on the demo build's serving copy."""

import pytest

from orchestration.studio import data
from orchestration.studio.app import identity_bounds
from tests.studio.conftest import (
    ERASED_IDENTIFIERS,
    KNOWN_CUSTOMER_ID,
    KNOWN_EMAIL,
    KNOWN_PERSON,
)


@pytest.mark.parametrize(
    "text",
    [KNOWN_EMAIL, KNOWN_EMAIL.upper(), f"  {KNOWN_CUSTOMER_ID} ", f"user_id:{KNOWN_CUSTOMER_ID}"],
)
def test_a_person_is_found_by_an_identifier_however_it_is_typed(reader, text):
    hits = data.search(reader, text)
    assert [hit["person_id"] for hit in hits] == [KNOWN_PERSON]
    assert hits[0]["is_known"] is True


def test_every_identifier_type_finds_its_person(reader):
    rows = reader.query(
        "select identifier_type, arg_min(identifier_value, identifier_value) as value, "
        "arg_min(person_id, identifier_value) as person_id from marts.identity_map "
        "where not is_hub group by 1"
    )
    assert {row["identifier_type"] for row in rows} >= {
        "email",
        "phone",
        "customer_id",
        "anonymous_id",
        "contact_id",
    }
    for row in rows:
        hits = data.search(reader, f"{row['identifier_type']}:{row['value']}")
        assert row["person_id"] in [hit["person_id"] for hit in hits], row


def test_a_misspelt_name_still_finds_the_person(reader):
    hits = data.search(reader, "Isla Wlison")
    assert KNOWN_PERSON in [hit["person_id"] for hit in hits]
    assert hits[0]["matched_on"].startswith("name: ")


class _WithoutStudioTables:
    """The reader as an older copy (no studio.* tables) shows it."""

    def __init__(self, reader):
        self._reader = reader

    def query(self, sql, parameters=None):
        return self._reader.query(sql, parameters)

    def has_table(self, relation):
        return not relation.startswith("studio.") and self._reader.has_table(relation)


@pytest.mark.parametrize("text", ["Isla Wlison", "Wlison", "isla", "Jonh", "Smtih", "ma", "Zz"])
def test_the_name_search_table_finds_what_scanning_every_profile_finds(reader, text):
    assert reader.has_table("studio.name_search")
    scanned = data.search(_WithoutStudioTables(reader), text)
    assert data.search(reader, text) == scanned
    assert data.search(reader, text, limit=3) == scanned[:3]


def test_the_identifier_search_table_finds_what_identity_map_finds(reader):
    assert reader.has_table("studio.identifier_search")
    rows = reader.query(
        "select identifier_type, identifier_value from marts.identity_map "
        "using sample reservoir(40 rows) repeatable (7)"
    )
    texts = [KNOWN_EMAIL, KNOWN_CUSTOMER_ID, *ERASED_IDENTIFIERS]
    texts += [row["identifier_value"] for row in rows]
    texts += [f"{row['identifier_type']}:{row['identifier_value']}" for row in rows]
    for text in texts:
        expected = data.search(_WithoutStudioTables(reader), text, show_pii=True)
        assert data.search(reader, text, show_pii=True) == expected, text
    (counts,) = reader.query(
        "select (select count(*) from studio.identifier_search) as served, "
        "(select count(*) from marts.identity_map) as mapped"
    )
    assert counts["served"] == counts["mapped"] > 0


def test_the_name_search_table_has_every_named_profile_once(reader):
    (row,) = reader.query(
        "select count(*) as names, count(distinct (first_name, last_name)) as distinct_names, "
        "sum(len(person_ids)) as persons from studio.name_search"
    )
    (named,) = reader.query(
        "select count(*) as persons from marts.customer_profiles "
        "where first_name is not null or last_name is not null"
    )
    assert row["names"] == row["distinct_names"] > 0
    assert row["persons"] == named["persons"]


def test_search_results_mask_emails_and_phones_unless_asked(reader):
    masked = data.search(reader, KNOWN_EMAIL)[0]
    shown = data.search(reader, KNOWN_EMAIL, show_pii=True)[0]
    assert masked["email"] == "i***@icloud.com"
    assert KNOWN_EMAIL not in str(masked)
    assert shown["email"] == KNOWN_EMAIL


@pytest.mark.parametrize("text", ERASED_IDENTIFIERS)
def test_an_erased_person_is_not_findable(reader, text):
    assert data.search(reader, text) == []


def test_the_golden_record_names_the_winning_source_of_each_trait(reader):
    row = data.profile(reader, KNOWN_PERSON)
    traits = {trait["trait"]: trait for trait in data.golden_traits(row)}
    assert traits["email"]["value"] == "i***@icloud.com"
    assert traits["email"]["source"] == row["email_source"] is not None
    assert traits["first_name"]["source"] == row["name_source"]
    assert traits["order_count"]["source"] == "computed"


def test_the_graph_has_every_identifier_link_and_refused_link_of_the_person(reader):
    graph = data.identity_graph(reader, KNOWN_PERSON)
    (identifiers,) = reader.query(
        "select count(*) as n from marts.identity_map where person_id = ?", [KNOWN_PERSON]
    )
    (links,) = reader.query(
        "select count(*) as n from marts.identity_links where person_id = ?", [KNOWN_PERSON]
    )
    (refused,) = reader.query(
        "select count(*) as n from marts.identity_conflicts "
        "where ? in (left_person_id, right_person_id)",
        [KNOWN_PERSON],
    )
    own = [node for node in graph.nodes if not node["is_outside"]]
    assert len(own) == identifiers["n"] > 1
    assert len(graph.edges) == links["n"] > 0
    assert len(graph.refused) == refused["n"] > 0
    assert all(edge["rule"] and edge["source_table"] for edge in graph.edges)
    assert all(edge["blocked_by"] for edge in graph.refused)
    node_ids = {node["id"] for node in graph.nodes}
    assert all({e["source"], e["target"]} <= node_ids for e in graph.edges + graph.refused)
    assert not any("@" in node["label"] and "***" not in node["label"] for node in graph.nodes)


def test_the_timeline_has_the_persons_events_sessions_orders_and_tickets_newest_first(reader):
    items = data.timeline(reader, KNOWN_PERSON)
    counts = reader.query(
        "select (select count(*) from marts.fct_events where person_id = $1) as event, "
        "(select count(*) from marts.fct_sessions where person_id = $1) as session, "
        "(select count(*) from marts.fct_orders where person_id = $1) as order, "
        "(select count(*) from marts.fct_tickets where person_id = $1) as ticket",
        [KNOWN_PERSON],
    )[0]
    for kind, count in counts.items():
        assert sum(item["kind"] == kind for item in items) == min(count, data.TIMELINE_LIMIT)
    moments = [item["at"] for item in items]
    assert moments == sorted(moments, reverse=True)


def test_consent_lists_every_purpose_with_its_current_status_and_history(reader):
    row = data.profile(reader, KNOWN_PERSON)
    consent = {item["purpose"]: item for item in data.consent(reader, KNOWN_PERSON, row)}
    assert set(consent) == set(data.CONSENT_PURPOSES)
    changes = sum(len(item["history"]) for item in consent.values())
    (expected,) = reader.query(
        "select count(*) as n from marts.consent_history where person_id = ?", [KNOWN_PERSON]
    )
    assert changes == expected["n"] > 0
    for item in consent.values():
        if item["history"]:
            assert item["status"] == item["history"][-1]["consent_status"]


def test_predictions_carry_their_models_holdout_auc(reader):
    predictions = data.predictions(reader, KNOWN_PERSON)
    assert [p["model"] for p in predictions] == ["purchase_propensity_30d", "churn_risk"]
    assert all(0 <= p["score"] <= 1 for p in predictions)
    assert all(0 < p["holdout_auc"] <= 1 for p in predictions)


def test_an_unknown_person_has_no_page(reader):
    assert data.person_page(reader, "p_does_not_exist") is None


def test_audiences_list_every_segment_with_its_latest_size(reader):
    segments = {row["segment_name"]: row for row in data.audiences(reader)}
    current = reader.query(
        "select segment_name, count(*) as n from marts.segment_membership group by 1"
    )
    assert len(segments) == 7
    for row in current:
        assert segments[row["segment_name"]]["member_count"] == row["n"]


def test_the_overlap_matrix_is_symmetric_with_sizes_on_the_diagonal(reader):
    overlap = data.overlap(reader)
    sizes = {row["segment_name"]: row["member_count"] for row in data.audiences(reader)}
    matrix, names = overlap["matrix"], overlap["names"]
    for i, a in enumerate(names):
        assert matrix[i][i] == sizes[a]
        for j in range(len(names)):
            assert matrix[i][j] == matrix[j][i] <= min(matrix[i][i], matrix[j][j])


def test_a_segments_syncs_come_from_the_sync_log(reader):
    synced = reader.query("select distinct segment_name from activation.sync_log")
    assert synced, "the demo syncs at least one segment"
    name = synced[0]["segment_name"]
    rows = data.syncs(reader, name)
    assert rows
    assert all(row["rows_sent"] == row["adds"] + row["updates"] for row in rows)


def test_identity_health_has_the_cluster_histogram_and_the_checks_bounds(reader):
    health = data.identity_health(reader, identity_bounds())
    assert sum(count for _, count in health["cluster_sizes"]) == health["metrics"]["persons"]["all"]
    assert health["bounds"]["largest_person_identifiers"] == 100
    assert health["bounds"]["hub_threshold"] == 3
    assert sum(row["links"] for row in health["conflicts"]) == len(
        reader.query("select 1 from marts.identity_conflicts")
    )


def test_data_quality_has_one_latest_result_per_expectation_and_quarantine_counts(reader):
    quality = data.data_quality(reader)
    keys = [(r["suite"], r["asset_key"], r["expectation"]) for r in quality["results"]]
    assert keys
    assert len(keys) == len(set(keys))
    (quarantined,) = reader.query("select count(*) as n from quality.quarantined_rows")
    assert sum(row["rows"] for row in quality["quarantine"]) == quarantined["n"]


def test_the_timeline_shows_orders_and_tickets_of_a_person_who_has_them(reader):
    for kind, table in (("order", "fct_orders"), ("ticket", "fct_tickets")):
        (row,) = reader.query(
            f"select person_id, count(*) as n from marts.{table} "
            "group by 1 order by 2 desc, 1 limit 1"
        )
        items = data.timeline(reader, row["person_id"])
        assert sum(item["kind"] == kind for item in items) == row["n"] > 0
