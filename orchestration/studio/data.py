"""The data behind each studio page, read from the serving copy.

Every function takes a `Reader` (`orchestration.serving.ServingReader`, or any object
with the same `query` / `has_table`) and returns plain dicts and lists for the templates.
Nothing here writes: the reader opens the copy read-only. Emails and phones are masked
unless `show_pii` is set, in search hits, traits and the identity graph alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orchestration.activation.model import CONSENT_PURPOSES
from orchestration.identifiers import normalize_email, normalize_phone
from orchestration.pii import mask

IDENTIFIER_TYPES = ("customer_id", "contact_id", "email", "phone", "anonymous_id", "device_id")
# Golden-record traits and the column naming the source that won each.
TRAITS_WITH_SOURCE = (
    ("email", "email_source"),
    ("phone", "phone_source"),
    ("first_name", "name_source"),
    ("last_name", "name_source"),
    ("country", "country_source"),
    ("city", "address_source"),
    ("postal_code", "address_source"),
)
# Computed traits shown on the person page (source: computed by the marts).
COMPUTED_TRAITS = (
    "customer_id",
    "contact_id",
    "account_id",
    "lifecycle_stage",
    "job_title",
    "first_seen_at",
    "last_seen_at",
    "order_count",
    "lifetime_revenue_usd",
    "average_order_value_usd",
    "last_order_at",
    "rfm_segment",
    "session_count",
    "events_30d",
    "tickets_total",
    "tickets_open",
    "sources_seen",
    "channels_seen",
)
NAME_SIMILARITY = 0.88  # Jaro-Winkler: "Jonh" finds "John", "Smtih" finds "Smith"
TIMELINE_LIMIT = 200  # newest items per kind on the person page


# Typos are tolerated after the first letter: only names starting with a letter a word
# of the search starts with are scored (Jaro-Winkler), best first.
# On a copy with `studio.name_search` (serving.py): each distinct name is scored once.
NAME_SEARCH_INDEXED = """
    with scored as (
        select
            first_name,
            last_name,
            person_ids,
            greatest(
                jaro_winkler_similarity(first_lower, $2),
                jaro_winkler_similarity(last_lower, $2),
                jaro_winkler_similarity(full_lower, $2)
            ) as score
        from studio.name_search
        where first_initial in (select unnest($1)) or last_initial in (select unnest($1))
    )

    select * from (
        select unnest(person_ids) as person_id, first_name, last_name, score
        from scored where score >= $3
    )
    order by score desc, person_id limit $4
"""
# On an older copy: every profile is scored.
NAME_SEARCH_SCAN = """
    with candidates as (
        select person_id, first_name, last_name
        from marts.customer_profiles
        where
            lower(left(first_name, 1)) in (select unnest(?))
            or lower(left(last_name, 1)) in (select unnest(?))
    ),

    scored as (
        select
            person_id,
            first_name,
            last_name,
            greatest(
                jaro_winkler_similarity(lower(coalesce(first_name, '')), ?),
                jaro_winkler_similarity(lower(coalesce(last_name, '')), ?),
                jaro_winkler_similarity(lower(concat_ws(' ', first_name, last_name)), ?)
            ) as score
        from candidates
    )

    select * from scored where score >= ? order by score desc, person_id limit ?
"""


class Reader(Protocol):
    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> list[dict[str, Any]]: ...

    def has_table(self, relation: str) -> bool: ...


# -- 1. search ----------------------------------------------------------------------------


def identifier_candidates(text: str) -> list[tuple[str, str]]:
    """(type, normal form) pairs a search text may be: `type:value` names the type;
    otherwise an email, a phone (E.164, read as US when national) or any id as typed."""
    text = text.strip()
    if not text:
        return []
    kind, sep, value = text.partition(":")
    if sep and kind.strip().lower() in (*IDENTIFIER_TYPES, "user_id"):
        kind = kind.strip().lower()
        kind = "customer_id" if kind == "user_id" else kind
        text = value.strip()
        types: Sequence[str] = (kind,)
    else:
        types = IDENTIFIER_TYPES
    candidates: list[tuple[str, str]] = []
    for identifier_type in types:
        if identifier_type == "email":
            email = normalize_email(text) if "@" in text else None
            if email:
                candidates.append(("email", email))
        elif identifier_type == "phone":
            digits = re.sub(r"[^0-9]", "", text)
            if len(digits) >= 7 and re.fullmatch(r"[0-9+().\s-]+", text):
                phone = normalize_phone(text, None, "US")
                if phone:
                    candidates.append(("phone", phone))
        else:
            candidates.append((identifier_type, text))
    return candidates


def search(reader: Reader, text: str, *, show_pii: bool = False, limit: int = 20) -> list[dict]:
    """Persons an identifier or a name points to: exact identifiers first, then names
    within NAME_SIMILARITY (typo-tolerant), then person ids. Only persons with a profile
    are found, so an erased person (no profile, no identifiers) never is."""
    text = text.strip()
    if not text:
        return []
    hits: dict[str, str] = {}  # person_id -> matched on
    candidates = identifier_candidates(text)
    if candidates:
        # studio.identifier_search (serving.py) is identity_map sorted by value.
        table = (
            "studio.identifier_search"
            if reader.has_table("studio.identifier_search")
            else "marts.identity_map"
        )
        rows = reader.query(
            f"select identifier_type, identifier_value, person_id from {table} "
            "where (identifier_type, identifier_value) in (select unnest(?), unnest(?)) "
            "order by identifier_type",
            [[kind for kind, _ in candidates], [value for _, value in candidates]],
        )
        for row in rows:
            shown = mask(row["identifier_type"], row["identifier_value"], show_pii)
            hits.setdefault(row["person_id"], f"{row['identifier_type']}: {shown}")
    if len(text) >= 2 and not re.search(r"[0-9@]", text):
        name = text.lower()
        initials = sorted({word[0] for word in name.split()})
        if reader.has_table("studio.name_search"):
            rows = reader.query(NAME_SEARCH_INDEXED, [initials, name, NAME_SIMILARITY, limit])
        else:
            rows = reader.query(
                NAME_SEARCH_SCAN,
                [initials, initials, name, name, name, NAME_SIMILARITY, limit],
            )
        for row in rows:
            full = " ".join(part for part in (row["first_name"], row["last_name"]) if part)
            hits.setdefault(row["person_id"], f"name: {full} ({row['score']:.2f})")
    if text.startswith("p_"):
        for row in reader.query(
            "select person_id from marts.customer_profiles where person_id like ? || '%' "
            "order by person_id limit ?",
            [text, limit],
        ):
            hits.setdefault(row["person_id"], "person id")
    if not hits:
        return []
    ids = list(hits)[:limit]
    profiles = {
        row["person_id"]: row
        for row in reader.query(
            "select person_id, is_known, first_name, last_name, email, phone, country, "
            "order_count, lifetime_revenue_usd, rfm_segment, last_seen_at "
            "from marts.customer_profiles where person_id in (select unnest(?))",
            [ids],
        )
    }
    results = []
    for person_id in ids:
        profile = profiles.get(person_id)
        if profile is None:  # resolved but no profile: not shown (erased, or not built)
            continue
        results.append(
            {
                "person_id": person_id,
                "is_known": profile["is_known"],
                "name": " ".join(p for p in (profile["first_name"], profile["last_name"]) if p),
                "email": mask("email", profile["email"], show_pii),
                "phone": mask("phone", profile["phone"], show_pii),
                "country": profile["country"],
                "order_count": profile["order_count"],
                "lifetime_revenue_usd": profile["lifetime_revenue_usd"],
                "rfm_segment": profile["rfm_segment"],
                "last_seen_at": profile["last_seen_at"],
                "matched_on": hits[person_id],
            }
        )
    return results


# -- 2. the person page -------------------------------------------------------------------


def profile(reader: Reader, person_id: str) -> dict[str, Any] | None:
    rows = reader.query("select * from marts.customer_profiles where person_id = ?", [person_id])
    return rows[0] if rows else None


def golden_traits(row: dict[str, Any], *, show_pii: bool = False) -> list[dict[str, Any]]:
    """(trait, value, winning source) for the golden record; computed traits last."""
    traits = [
        {"trait": trait, "value": mask(trait, row.get(trait), show_pii), "source": row.get(src)}
        for trait, src in TRAITS_WITH_SOURCE
    ]
    traits += [
        {"trait": trait, "value": row.get(trait), "source": "computed"}
        for trait in COMPUTED_TRAITS
        if trait in row
    ]
    return traits


@dataclass
class IdentityGraph:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)  # applied links
    refused: list[dict[str, Any]] = field(default_factory=list)  # identity_conflicts
    merges: list[dict[str, Any]] = field(default_factory=list)  # person_merges


def identity_graph(reader: Reader, person_id: str, *, show_pii: bool = False) -> IdentityGraph:
    """The person's identifiers (nodes), the links that joined them (identity_links),
    the links refused with the guard that refused them (identity_conflicts: the other
    end may belong to another person, drawn as an outside node) and the merges and
    splits that changed the person id (person_merges)."""
    graph = IdentityGraph()
    ids: dict[tuple[str, str], str] = {}

    def node_id(kind: str, value: str, owner: str | None, is_hub: bool = False) -> str:
        key = (kind, value)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            graph.nodes.append(
                {
                    "id": ids[key],
                    "type": kind,
                    "label": mask(kind, value, show_pii),
                    "person_id": owner,
                    "is_outside": owner != person_id,
                    "is_hub": is_hub,
                }
            )
        return ids[key]

    for row in reader.query(
        "select identifier_type, identifier_value, is_hub, first_seen_at, sources "
        "from marts.identity_map where person_id = ? order by identifier_type, first_seen_at",
        [person_id],
    ):
        node_id(row["identifier_type"], row["identifier_value"], person_id, row["is_hub"])
        graph.nodes[-1].update(first_seen_at=row["first_seen_at"], sources=row["sources"])
    if reader.has_table("marts.identity_links"):
        for row in reader.query(
            "select left_type, left_value, right_type, right_value, rule, source_table, "
            "min(first_seen_at) as first_seen_at, sum(evidence_count) as evidence_count "
            "from marts.identity_links where person_id = ? group by all order by 7, 5",
            [person_id],
        ):
            graph.edges.append(
                {
                    "source": node_id(row["left_type"], row["left_value"], person_id),
                    "target": node_id(row["right_type"], row["right_value"], person_id),
                    "rule": row["rule"],
                    "source_table": row["source_table"],
                    "first_seen_at": row["first_seen_at"],
                    "evidence_count": row["evidence_count"],
                }
            )
    for row in reader.query(
        "select left_type, left_value, right_type, right_value, rule, source_table, "
        "blocked_by, left_person_id, right_person_id, first_seen_at "
        "from marts.identity_conflicts where ? in (left_person_id, right_person_id) "
        "order by first_seen_at, rule",
        [person_id],
    ):
        graph.refused.append(
            {
                "source": node_id(row["left_type"], row["left_value"], row["left_person_id"]),
                "target": node_id(row["right_type"], row["right_value"], row["right_person_id"]),
                "rule": row["rule"],
                "source_table": row["source_table"],
                "blocked_by": row["blocked_by"],
                "first_seen_at": row["first_seen_at"],
            }
        )
    graph.merges = reader.query(
        "select old_person_id, new_person_id, change_reason, identifiers_moved, changed_at "
        "from marts.person_merges where ? in (old_person_id, new_person_id) "
        "order by changed_at",
        [person_id],
    )
    return graph


def timeline(reader: Reader, person_id: str, limit: int = TIMELINE_LIMIT) -> list[dict]:
    """Events, sessions, orders and tickets of the person, newest first (at most `limit`
    of each kind)."""
    parts = [
        (
            "event",
            "select event_at as at, event_type as what, "
            "coalesce(event_name, page_name, page_path, screen_name, '') as detail, "
            "event_source as source from marts.fct_events where person_id = ? "
            "order by event_at desc limit ?",
        ),
        (
            "session",
            "select started_at as at, 'session' as what, "
            "concat(event_count, ' events, ', duration_seconds, ' s', "
            "coalesce(', landing ' || landing_page_path, '')) as detail, "
            "first_event_source as source from marts.fct_sessions where person_id = ? "
            "order by started_at desc limit ?",
        ),
        (
            "order",
            "select created_at as at, order_status as what, "
            "concat(order_id, ': ', round(total_usd, 2), ' USD, ', item_lines, ' lines') "
            "as detail, channel as source from marts.fct_orders where person_id = ? "
            "order by created_at desc limit ?",
        ),
    ]
    if reader.has_table("marts.fct_tickets"):
        parts.append(
            (
                "ticket",
                "select created_at as at, ticket_status as what, "
                "concat(ticket_id, ': ', coalesce(subject, ''), "
                "coalesce(' (' || priority || ')', '')) as detail, channel as source "
                "from marts.fct_tickets where person_id = ? order by created_at desc limit ?",
            )
        )
    items = []
    for kind, sql in parts:
        items += [{"kind": kind, **row} for row in reader.query(sql, [person_id, limit])]
    return sorted(items, key=lambda item: (item["at"] is not None, item["at"]), reverse=True)


def consent(reader: Reader, person_id: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Per purpose: the current status (customer_profiles) and its history
    (consent_history, oldest first)."""
    history: dict[str, list[dict]] = {purpose: [] for purpose in CONSENT_PURPOSES}
    if reader.has_table("marts.consent_history"):
        for change in reader.query(
            "select purpose, consent_status, consent_source, subject_type, recorded_at "
            "from marts.consent_history where person_id = ? order by recorded_at",
            [person_id],
        ):
            history.setdefault(change["purpose"], []).append(change)
    return [
        {"purpose": purpose, "status": row.get(f"consent_{purpose}"), "history": changes}
        for purpose, changes in history.items()
    ]


def memberships(reader: Reader, person_id: str) -> list[dict[str, Any]]:
    """Every segment the person is or was in, with entered/exited and the reasons."""
    return reader.query(
        "select segment_name, entered_at, exited_at, entered_because, exited_because "
        "from marts.segment_membership_history where person_id = ? "
        "order by exited_at is not null, entered_at desc",
        [person_id],
    )


def predictions(reader: Reader, person_id: str) -> list[dict[str, Any]]:
    """The person's scores, each with its model's holdout AUC where the serving copy
    records it (quality.prediction_models; absent: None)."""
    rows = reader.query(
        "select purchase_propensity_30d, churn_risk, predicted_at "
        "from marts.customer_predictions where person_id = ?",
        [person_id],
    )
    if not rows:
        return []
    auc: dict[str, float] = {}
    if reader.has_table("quality.prediction_models"):
        auc = {
            row["model"]: row["holdout_auc"]
            for row in reader.query(
                "select model, arg_max(holdout_auc, trained_at) as holdout_auc "
                "from quality.prediction_models group by model"
            )
        }
    return [
        {
            "model": model,
            "score": rows[0][model],
            "predicted_at": rows[0]["predicted_at"],
            "holdout_auc": auc.get(model),
        }
        for model in ("purchase_propensity_30d", "churn_risk")
    ]


def person_page(reader: Reader, person_id: str, *, show_pii: bool = False) -> dict | None:
    """Everything the 360° page shows; None when there is no such person (or erased)."""
    row = profile(reader, person_id)
    if row is None:
        return None
    return {
        "person_id": person_id,
        "is_known": row["is_known"],
        "name": " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p),
        "traits": golden_traits(row, show_pii=show_pii),
        "graph": identity_graph(reader, person_id, show_pii=show_pii),
        "timeline": timeline(reader, person_id),
        "consent": consent(reader, person_id, row),
        "segments": memberships(reader, person_id),
        "predictions": predictions(reader, person_id),
    }


# -- 3. audiences -------------------------------------------------------------------------


def segment_definition(segments_dir: Path, name: str) -> str | None:
    """The segment's YAML as the marketer wrote it."""
    path = segments_dir / f"{name}.yml"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def audiences(reader: Reader) -> list[dict[str, Any]]:
    """Every segment with its latest size and latest run's entered/exited."""
    return reader.query(
        "select segment_name, arg_max(member_count, computed_at) as member_count, "
        "arg_max(entered_count, computed_at) as entered_count, "
        "arg_max(exited_count, computed_at) as exited_count, "
        "max(computed_at) as computed_at, count(*) as runs "
        "from marts.segment_sizes group by segment_name order by segment_name"
    )


def segment_sizes(reader: Reader, name: str) -> list[dict[str, Any]]:
    """Size, entered and exited per run, oldest first (the chart's points)."""
    return reader.query(
        "select computed_at, member_count, entered_count, exited_count, run_id "
        "from marts.segment_sizes where segment_name = ? order by computed_at",
        [name],
    )


def overlap(reader: Reader) -> dict[str, Any]:
    """Current members shared by every pair of segments (the diagonal: the size)."""
    names = [row["segment_name"] for row in audiences(reader)]
    counts = {
        (row["a"], row["b"]): row["shared"]
        for row in reader.query(
            "select a.segment_name as a, b.segment_name as b, count(*) as shared "
            "from marts.segment_membership as a inner join marts.segment_membership as b "
            "on a.person_id = b.person_id group by all"
        )
    }
    return {
        "names": names,
        "matrix": [[counts.get((a, b), 0) for b in names] for a in names],
    }


def syncs(reader: Reader, name: str, per_destination: int = 5) -> list[dict[str, Any]]:
    """Each destination's last syncs of the segment (the sync log, newest first)."""
    if not reader.has_table("activation.sync_log"):
        return []
    return reader.query(
        """
        select * exclude (position) from (
            select
                destination, synced_at, members, adds, updates, removes, failed,
                adds + updates as rows_sent, full_resync, run_id,
                row_number() over (partition by destination order by synced_at desc)
                    as position
            from activation.sync_log where segment_name = ?
        ) where position <= ? order by destination, synced_at desc
        """,
        [name, per_destination],
    )


def segment_members(reader: Reader, name: str, limit: int = 50) -> list[dict[str, Any]]:
    return reader.query(
        "select person_id, entered_at from marts.segment_membership where segment_name = ? "
        "order by entered_at desc, person_id limit ?",
        [name, limit],
    )


# -- 4. identity health -------------------------------------------------------------------


def identity_health(reader: Reader, bounds: dict[str, float]) -> dict[str, Any]:
    """The latest identity_health metrics by family, the hubs and conflicts, merges per
    run, and the bounds the identity checks use (drawn on the charts)."""
    metrics: dict[str, dict[str, float]] = {}
    for row in reader.query(
        "select metric, dimension, metric_value from marts.identity_health order by 1, 2"
    ):
        metrics.setdefault(row["metric"], {})[row["dimension"]] = row["metric_value"]
    conflicts = reader.query(
        "select blocked_by, rule, count(*) as links from marts.identity_conflicts "
        "group by all order by links desc, blocked_by, rule"
    )
    hubs = reader.query(
        "select identifier_type, count(*) as hubs from marts.identity_map where is_hub "
        "group by all order by 1"
    )
    merges = reader.query(
        "select cast(changed_at as date) as day, change_reason, count(*) as changes "
        "from marts.person_merges group by all order by 1, 2"
    )
    return {
        "metrics": metrics,
        "cluster_sizes": sorted(metrics.get("persons_by_size", {}).items()),
        "max_per_person": metrics.get("max_identifiers_per_person", {}),
        "avg_per_person": metrics.get("avg_identifiers_per_person", {}),
        "conflicts": conflicts,
        "hubs": hubs,
        "merges": merges,
        "bounds": bounds,
    }


# -- 5. data quality ----------------------------------------------------------------------


def data_quality(reader: Reader) -> dict[str, Any]:
    """The latest result of every GX expectation, and quarantine counts."""
    results = reader.query(
        """
        select suite, asset_key, expectation, severity, blocking, success, observed_value,
            validated_at
        from quality.gx_validation_results
        qualify row_number() over (
            partition by suite, asset_key, expectation order by validated_at desc
        ) = 1
        order by success, suite, asset_key, expectation
        """
    )
    quarantine = reader.query(
        "select source_table, reason, count(*) as rows from quality.quarantined_rows "
        "group by all order by source_table, rows desc"
    )
    accounting = reader.query("select * from quality.row_accounting order by source_table")
    return {"results": results, "quarantine": quarantine, "accounting": accounting}
