"""Enforcement before anything leaves: who may go to which destination, and an
independent count of violations that must be zero.

Per (segment, destination), a member may leave only when
* the person still has a profile (erased persons have none),
* every required consent purpose is `granted`: the segment's own purpose, plus
  `advertising` for an ad platform,
* the person is known when the segment's audience is `known` or the destination is an ad
  platform (anonymous persons only go to first-party destinations),
* neither the profile's email nor its phone is on the suppression list (the hashed
  erased identifiers).

`build_audience_payloads` applies these rules to `marts.segment_membership` and writes
`activation.audience_payloads`: the only table the syncs read. `find_violations`
re-derives the same rules from other sources: consent from the latest consent model
(`int_consent_latest`, not the profile's consent columns the filter used), erasure from
the erased identifiers (`int_identity_erasures`, every identifier of the person in
`identity_map`) and the suppression list, known-ness from `identity_map`. The blocking
asset check on the payloads fails on any violation, and the exports downstream do not run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from orchestration.activation.destinations import Destination
from orchestration.activation.model import CONSENT_PURPOSES, Audience, SegmentDefinition

PAYLOADS_TABLE = "activation.audience_payloads"
MEMBERSHIP_TABLE = "marts.segment_membership"
PROFILES_TABLE = "marts.customer_profiles"
SUPPRESSION_TABLE = "marts.suppression_list"
CONSENT_TABLE = "intermediate.int_consent_latest"
ERASURES_TABLE = "intermediate.int_identity_erasures"
IDENTITY_TABLE = "marts.identity_map"
KNOWN_IDENTIFIER_TYPES = ("customer_id", "contact_id", "email", "phone")
SAMPLE_SIZE = 10


class ActivationConfigError(ValueError):
    """A segment that cannot be activated as declared (unknown destination, purpose)."""


@dataclass(frozen=True)
class AudienceRule:
    """Who may leave for one (segment, destination)."""

    segment: str
    destination: str
    destination_type: str
    purposes: tuple[str, ...]  # every one must be granted
    known_only: bool  # anonymous persons excluded


def required_purposes(segment: SegmentDefinition, destination: Destination) -> tuple[str, ...]:
    return tuple(sorted({segment.consent_purpose, *destination.required_purposes}))


def audience_rules(
    segments: Sequence[SegmentDefinition], destinations: Mapping[str, Destination]
) -> list[AudienceRule]:
    """One rule per (segment, destination); a bad reference names the segment's file."""
    rules = []
    for segment in segments:
        where = f"{segment.source_file or 'segment'}: segment '{segment.name}'"
        if segment.consent_purpose not in CONSENT_PURPOSES:
            raise ActivationConfigError(
                f"{where}: consent purpose '{segment.consent_purpose}' is not one of "
                f"{', '.join(CONSENT_PURPOSES)}"
            )
        for name in segment.destinations:
            destination = destinations.get(name)
            if destination is None:
                raise ActivationConfigError(
                    f"{where}: unknown destination '{name}' (configured: "
                    f"{', '.join(sorted(destinations)) or 'none'})"
                )
            rules.append(
                AudienceRule(
                    segment=segment.name,
                    destination=name,
                    destination_type=destination.type_name,
                    purposes=required_purposes(segment, destination),
                    known_only=segment.audience == Audience.KNOWN
                    or not destination.allows_anonymous,
                )
            )
    return rules


def _rules_frame(rules: Sequence[AudienceRule]) -> pa.Table:
    columns = {
        "segment_name": pa.array([r.segment for r in rules], pa.string()),
        "destination": pa.array([r.destination for r in rules], pa.string()),
        "known_only": pa.array([r.known_only for r in rules], pa.bool_()),
        "required_purposes": pa.array([",".join(r.purposes) for r in rules], pa.string()),
    }
    for purpose in CONSENT_PURPOSES:
        columns[f"needs_{purpose}"] = pa.array([purpose in r.purposes for r in rules], pa.bool_())
    return pa.table(columns)


def _purposes_frame(rules: Sequence[AudienceRule]) -> pa.Table:
    pairs = [(r.segment, r.destination, purpose) for r in rules for purpose in r.purposes]
    return pa.table(
        {
            "segment_name": pa.array([p[0] for p in pairs], pa.string()),
            "destination": pa.array([p[1] for p in pairs], pa.string()),
            "purpose": pa.array([p[2] for p in pairs], pa.string()),
        }
    )


def _columns(con: duckdb.DuckDBPyConnection, qualified: str) -> dict[str, str]:
    """Column name -> type of a table (empty when it does not exist)."""
    schema, table = qualified.split(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {name: data_type.upper() for name, data_type in rows}


@dataclass(frozen=True)
class PairCounts:
    """What enforcement did to one (segment, destination)."""

    segment: str
    destination: str
    members: int
    allowed: int
    no_profile: int
    no_consent: int
    anonymous: int
    suppressed: int


def build_audience_payloads(
    con: duckdb.DuckDBPyConnection, rules: Sequence[AudienceRule], run_id: str
) -> list[PairCounts]:
    """Write activation.audience_payloads: the members that may leave, per destination."""
    membership_columns = _columns(con, MEMBERSHIP_TABLE)
    if not membership_columns:
        raise ActivationConfigError(
            f"{MEMBERSHIP_TABLE} does not exist: the segment assets must run first"
        )
    missing = {"segment_name", "person_id"} - set(membership_columns)
    if missing:
        raise ActivationConfigError(f"{MEMBERSHIP_TABLE} lacks the column(s) {sorted(missing)}")
    entered_at = "entered_at" if "entered_at" in membership_columns else "null"
    # JSON text as the membership mart stores it; a JSON/MAP/STRUCT column is rendered.
    attributes = {
        None: "'{}'",
        "VARCHAR": "attributes",
    }.get(membership_columns.get("attributes"), "cast(to_json(attributes) as varchar)")
    consent_ok = " and ".join(
        f"(not rules.needs_{purpose} or profiles.consent_{purpose} = 'granted')"
        for purpose in CONSENT_PURPOSES
    )
    con.execute("create schema if not exists activation")
    con.register("audience_rules", _rules_frame(rules))
    try:
        con.execute(
            f"""create or replace temp table audience_candidates as
            with
            membership as (
                select
                    segment_name,
                    person_id,
                    cast({entered_at} as timestamp) as entered_at,
                    {attributes} as attributes
                from {MEMBERSHIP_TABLE}
                -- One row per member even if the mart ever repeats one.
                qualify row_number() over (
                    partition by segment_name, person_id order by entered_at
                ) = 1
            ),
            suppressed as (
                select identifier_hash from {SUPPRESSION_TABLE}
            )
            select
                rules.segment_name,
                rules.destination,
                membership.person_id,
                profiles.is_known,
                profiles.email,
                profiles.phone,
                profiles.first_name,
                profiles.last_name,
                profiles.city,
                profiles.postal_code,
                profiles.country,
                membership.entered_at,
                membership.attributes,
                rules.required_purposes,
                profiles.person_id is not null as has_profile,
                coalesce({consent_ok}, false) as has_consent,
                coalesce(not rules.known_only or profiles.is_known, false) as audience_ok,
                exists (
                    select 1 from suppressed
                    where suppressed.identifier_hash in (
                        sha256('email:' || profiles.email), sha256('phone:' || profiles.phone)
                    )
                ) as is_suppressed
            from membership
            inner join audience_rules as rules on membership.segment_name = rules.segment_name
            left join {PROFILES_TABLE} as profiles on membership.person_id = profiles.person_id
            """
        )
    finally:
        con.unregister("audience_rules")
    con.execute(
        f"""create or replace table {PAYLOADS_TABLE} as
        select
            segment_name, destination, person_id, is_known, email, phone, first_name,
            last_name, city, postal_code, country, entered_at, attributes, required_purposes,
            now()::timestamp as built_at, ? as run_id
        from audience_candidates
        where has_profile and has_consent and audience_ok and not is_suppressed
        order by segment_name, destination, person_id""",
        [run_id],
    )
    counted = con.execute(
        """select
            segment_name,
            destination,
            count(*),
            count(*) filter (where has_profile and has_consent and audience_ok
                and not is_suppressed),
            count(*) filter (where not has_profile),
            count(*) filter (where has_profile and not has_consent),
            count(*) filter (where has_profile and has_consent and not audience_ok),
            count(*) filter (where has_profile and has_consent and audience_ok and is_suppressed)
        from audience_candidates
        group by all"""
    ).fetchall()
    con.execute("drop table audience_candidates")
    by_pair = {(row[0], row[1]): row for row in counted}
    result = []
    for rule in rules:
        row = by_pair.get((rule.segment, rule.destination))
        numbers = row[2:] if row else (0, 0, 0, 0, 0, 0)
        result.append(PairCounts(rule.segment, rule.destination, *map(int, numbers)))
    return result


# ---- the independent count ----------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    kind: str
    segment: str
    destination: str
    persons: int
    sample: tuple[str, ...]


@dataclass
class ViolationReport:
    payload_rows: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(v.persons for v in self.violations)

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for violation in self.violations:
            counts[violation.kind] = counts.get(violation.kind, 0) + violation.persons
        return counts


VIOLATIONS_SQL = f"""
with
payload as (
    select segment_name, destination, person_id, email, phone from {PAYLOADS_TABLE}
),
identity as (
    select identity.*
    from {IDENTITY_TABLE} as identity
    where identity.person_id in (select person_id from payload)
),
consent_missing as (
    -- The latest change per (person, purpose) must be a grant: no change is no consent.
    select
        'consent_' || purposes.purpose || '_not_granted' as kind,
        payload.segment_name,
        payload.destination,
        payload.person_id
    from payload
    inner join rule_purposes as purposes
        on payload.segment_name = purposes.segment_name
        and payload.destination = purposes.destination
    left join {CONSENT_TABLE} as consent
        on payload.person_id = consent.person_id and purposes.purpose = consent.purpose
    where consent.consent_status is distinct from 'granted'
),
erased_identifier as (
    -- Any identifier of the person that a deletion request erased.
    select distinct
        'erased_identifier' as kind, payload.segment_name, payload.destination, payload.person_id
    from payload
    inner join identity on payload.person_id = identity.person_id
    inner join {ERASURES_TABLE} as erasures
        on identity.identifier_type = erasures.identifier_type
        and identity.identifier_value = erasures.identifier_value
),
erased_value as (
    -- The email or phone about to leave is erased or suppressed, whoever carries it.
    select distinct
        'erased_or_suppressed_value' as kind,
        payload.segment_name,
        payload.destination,
        payload.person_id
    from payload
    where
        exists (
            select 1 from {ERASURES_TABLE} as erasures
            where
                (erasures.identifier_type = 'email' and erasures.identifier_value = payload.email)
                or (
                    erasures.identifier_type = 'phone' and erasures.identifier_value = payload.phone
                )
        )
        or exists (
            select 1 from {SUPPRESSION_TABLE} as suppression
            where suppression.identifier_hash in (
                sha256('email:' || payload.email), sha256('phone:' || payload.phone)
            )
        )
),
unknown_person as (
    -- Erased persons leave identity_map: a payload person not in it is not allowed.
    select 'person_not_in_identity_map' as kind, segment_name, destination, person_id
    from payload
    where person_id not in (select person_id from identity)
),
anonymous as (
    select 'anonymous_person' as kind, payload.segment_name, payload.destination, payload.person_id
    from payload
    inner join rule_known as rules
        on payload.segment_name = rules.segment_name and payload.destination = rules.destination
    where rules.known_only and not exists (
        select 1 from identity
        where identity.person_id = payload.person_id
            and identity.identifier_type in {KNOWN_IDENTIFIER_TYPES}
            and not coalesce(identity.is_hub, false)
    )
),
violations as (
    select * from consent_missing
    union all select * from erased_identifier
    union all select * from erased_value
    union all select * from unknown_person
    union all select * from anonymous
)
select
    kind,
    segment_name,
    destination,
    count(distinct person_id) as persons,
    list(distinct person_id order by person_id)[1:{SAMPLE_SIZE}] as sample
from violations
group by all
order by kind, segment_name, destination
"""


def find_violations(
    con: duckdb.DuckDBPyConnection, rules: Sequence[AudienceRule]
) -> ViolationReport:
    """Count payload rows that break the rules, from sources the filter did not use."""
    ((payload_rows,),) = con.execute(f"select count(*) from {PAYLOADS_TABLE}").fetchall()
    known = pa.table(
        {
            "segment_name": pa.array([r.segment for r in rules], pa.string()),
            "destination": pa.array([r.destination for r in rules], pa.string()),
            "known_only": pa.array([r.known_only for r in rules], pa.bool_()),
        }
    )
    con.register("rule_purposes", _purposes_frame(rules))
    con.register("rule_known", known)
    try:
        rows = con.execute(VIOLATIONS_SQL).fetchall()
    finally:
        con.unregister("rule_purposes")
        con.unregister("rule_known")
    # Payload rows for a (segment, destination) no rule allows are violations too.
    allowed = {(r.segment, r.destination) for r in rules}
    strays = con.execute(
        f"select segment_name, destination, count(*), "
        f"list(person_id order by person_id)[1:{SAMPLE_SIZE}] "
        f"from {PAYLOADS_TABLE} group by all"
    ).fetchall()
    report = ViolationReport(payload_rows=int(payload_rows))
    for kind, segment, destination, persons, sample in rows:
        report.violations.append(Violation(kind, segment, destination, int(persons), tuple(sample)))
    for segment, destination, persons, sample in strays:
        if (segment, destination) not in allowed:
            report.violations.append(
                Violation("no_rule_for_pair", segment, destination, int(persons), tuple(sample))
            )
    return report
