"""PII hygiene of the logs: no e-mail address or phone number of the demo data, as
written in the raw files or normalised, appears in what the session's demo build
(`cdp run` of seeds/) logged: its stdout and stderr, the full log beside the warehouse
(logs/last_run.log), dbt's own debug logs of the run (dbt_project/target/*-<run>-*/
dbt.log) and Dagster's event log and compute logs (the run's DAGSTER_HOME). GX's sample
values, ingestion's messages and dbt's output show them masked (orchestration/pii.py).

`cdp explain`, the studio with --show-pii and the marts are explicit lookups of the
data, not logs: not scanned here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.identifiers import normalize_email, normalize_phone
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from tests.commands import cdp

EMAIL = re.compile(r"[^\s@,;:'\"<>()\[\]{}/\\|=`]+@[^\s@,;:'\"<>()\[\]{}/\\|=`]+\.[A-Za-z]{2,}")
PHONE_KEY = re.compile(r'"phone"\s*:\s*"([^"]+)"', re.IGNORECASE)
MIN_PHONE_DIGITS = 7


def raw_identifiers(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """Every e-mail in any raw table (quarantined records included) and every phone of
    the phone columns, consent and deletion subjects and JSON traits, as written and in
    their normal forms, with the identity map's normalised values."""
    emails: set[str] = set()
    phones: set[str] = set()
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'"
    ).fetchall()
    for (table,) in tables:
        description = con.execute(f'select * from raw."{table}" limit 0').description
        columns = [column[0] for column in description]
        for row in con.execute(f'select * from raw."{table}"').fetchall():
            for name, value in zip(columns, row, strict=True):
                if not isinstance(value, str):
                    continue
                emails.update(EMAIL.findall(value))
                phones.update(PHONE_KEY.findall(value))
                if "phone" in name.lower():
                    phones.add(value)
    for table in ("consent", "deletion_requests"):
        phones.update(
            value
            for (value,) in con.execute(
                f"select subject_id from raw.{table} where subject_type = 'phone'"
            ).fetchall()
        )
    for kind, value in con.execute(
        "select identifier_type, identifier_value from marts.identity_map"
        " where identifier_type in ('email', 'phone')"
    ).fetchall():
        (emails if kind == "email" else phones).add(value)
    emails |= {normal for email in emails if (normal := normalize_email(email))}
    phones |= {normal for phone in phones if (normal := normalize_phone(phone, None))}
    emails = {email.strip() for email in emails if email.strip()}
    phones = {
        phone.strip()
        for phone in phones
        if sum(char.isdigit() for char in phone) >= MIN_PHONE_DIGITS
    }
    return emails, phones


def project_literals() -> str:
    """The dbt project's and the shared vectors' text: an address written there (a unit
    test's fixture, `test@test.com`) is code, echoed by dbt's debug log, not data."""
    files = [
        path
        for path in DBT_PROJECT_DIR.rglob("*")
        if path.is_file()
        and path.suffix in {".sql", ".yml", ".csv"}
        and "target" not in path.relative_to(DBT_PROJECT_DIR).parts
    ]
    files += sorted((PROJECT_ROOT / "tests" / "vectors").glob("*.yml"))
    return "\n".join(path.read_text(errors="replace") for path in files).lower()


def sqlite_text(path: Path) -> str:
    """Every row of every table of a SQLite file (Dagster's run and event storage)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [
            name for (name,) in db.execute("select name from sqlite_master where type = 'table'")
        ]
        return "\n".join(
            repr(row) for table in tables for row in db.execute(f'select * from "{table}"')
        )


def run_logs(demo_run) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(where, text) of every log of the demo build that can be reached."""
    yield "stdout", demo_run.stdout
    yield "stderr", demo_run.stderr
    log = demo_run.build_dir / "logs" / "last_run.log"
    assert log.is_file(), "no full log beside the warehouse"
    yield str(log), log.read_text(errors="replace")
    # scripts/check.py and the session fixture both give the build DAGSTER_HOME beside it.
    home = demo_run.build_dir.parent / "dagster_home"
    runs = sorted((home / "history" / "runs").glob("*.db")) if home.is_dir() else []
    run_ids = [path.stem for path in runs if path.stem != "index"]
    assert run_ids, f"no Dagster event log of the demo build under {home}"
    for path in sorted(home.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".db":
            yield str(path), sqlite_text(path)
        elif path.suffix in {".out", ".err", ".log", ".txt", ""}:
            yield str(path), path.read_text(errors="replace")
    for run_id in run_ids:
        for dbt_log in sorted((DBT_PROJECT_DIR / "target").glob(f"*-{run_id[:7]}-*/dbt.log")):
            yield str(dbt_log), dbt_log.read_text(errors="replace")


# A run of digits as a phone may be written (`+1 (415) 555-0123`, `415.555.0123`).
PHONE_RUN = re.compile(r"\+?\d(?:[\s().\-]{0,2}\d){6,}")


def digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def leaks(text: str, emails: set[str], phones: set[str]) -> list[str]:
    """The e-mails (case-insensitive, inside any address-shaped token) and phones (by
    their digits, a whole run of digits) of the sets that `text` holds. One pass of
    each pattern over the text: the logs are megabytes, the sets hundreds."""
    tokens = {token.lower() for token in EMAIL.findall(text)}
    found = [email for email in emails if any(email.lower() in token for token in tokens)]
    runs = {digits(run) for run in PHONE_RUN.findall(text)}
    found += [phone for phone in phones if digits(phone) in runs]
    return sorted(found)


@pytest.fixture(scope="module")
def identifiers(demo_db) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    return raw_identifiers(demo_db)


def not_in_code(values: set[str], literals: str) -> set[str]:
    return {value for value in values if value.lower() not in literals}


def test_the_demo_data_has_identifiers_to_look_for(identifiers):
    emails, phones = identifiers
    assert len(emails) > 100
    assert len(phones) > 50
    assert any(email != email.lower() for email in emails)  # as written, capitals kept
    assert any(phone.startswith("+") for phone in phones)  # E.164
    assert any(not phone.startswith("+") for phone in phones)  # national forms


def test_no_email_or_phone_of_the_demo_data_appears_in_the_run_logs(demo_run, identifiers):
    emails, phones = identifiers
    scanned = dict(run_logs(demo_run))
    assert sum(len(text) for text in scanned.values()) > 10_000, "nothing to scan"
    # dbt's debug log echoes the project's SQL, unit tests' fixtures (`test@test.com`)
    # included: there only the values not written in the code count.
    literals = project_literals()
    in_data_only = (not_in_code(emails, literals), not_in_code(phones, literals))
    found = {}
    for where, text in scanned.items():
        sought = in_data_only if where.endswith("dbt.log") else (emails, phones)
        if hits := leaks(text, *sought):
            found[where] = hits
    assert found == {}, found


def test_the_scan_finds_an_identifier_written_as_a_log_would():
    emails = {"Ann.Lee@Example.com"}
    phones = {"+14155550123", "0000000000"}
    assert leaks("sent to ann.lee@example.com", emails, phones) == ["Ann.Lee@Example.com"]
    assert leaks("phone=+14155550123.", emails, phones) == ["+14155550123"]
    assert leaks("['0000000000']", emails, phones) == ["0000000000"]
    # Masked, or digits inside a longer number (a float, a timestamp): not a leak.
    assert leaks("A***@Example.com +1********23 0.30000000000000004", emails, phones) == []


def test_a_run_failing_on_a_broken_file_prints_no_raw_email_or_phone(tmp_path):
    """A file without a header (its first row, an e-mail and a phone in it, is read as
    the header and refuses the file) and a Latin-1 row carrying an e-mail (quarantined):
    the failing run's stdout, stderr, full log and Dagster event log show them masked."""
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    (raw_dir / "crm_contacts.csv").write_text(
        "c1,a1,Zelda.Quill@Example.org,+14155550199,Zelda,Quill\n"
    )
    (raw_dir / "shop_orders.csv").write_bytes(
        "order_id,email,phone\n1,ok@example.net,\n2,jörg.brandt@example.de,+4930123456\n".encode(
            "latin-1"
        )
    )
    warehouse = tmp_path / "build" / "cdp.duckdb"
    completed = cdp(
        "run",
        "--raw-dir",
        raw_dir,
        "--warehouse",
        warehouse,
        "--exports-dir",
        tmp_path / "build" / "exports",
        dagster_home=tmp_path / "dagster_home",
    )
    assert completed.returncode != 0
    assert "crm_contacts.csv: none of the columns of table crm_contacts found" in completed.stdout
    assert "Z***@Example.org" in completed.stdout  # the refusal names the row, masked
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (reason,) = con.execute("select reason from raw.quarantine").fetchone()
    assert reason.startswith("not valid UTF-8 at byte")  # the Latin-1 row, quarantined
    emails = {"Zelda.Quill@Example.org", "jörg.brandt@example.de", "ok@example.net"}
    phones = {"+14155550199", "+4930123456"}
    texts = {"stdout": completed.stdout, "stderr": completed.stderr}
    log = warehouse.parent / "logs" / "last_run.log"
    if log.exists():
        texts[str(log)] = log.read_text(errors="replace")
    for path in sorted((tmp_path / "dagster_home").rglob("*.db")):
        texts[str(path)] = sqlite_text(path)
    # jörg's address as the quarantine keeps it (`j\xf6rg...`) would not be a leak of
    # the text: look for its ASCII part too.
    emails.add("brandt@example.de")
    found = {where: hits for where, text in texts.items() if (hits := leaks(text, emails, phones))}
    assert found == {}, found


def test_gx_results_and_data_docs_of_the_demo_build_show_no_raw_identifier(
    demo_run, demo_db, identifiers
):
    """Not logs but read like them: the check history and the Data Docs pages (beside
    the warehouse, or where scripts/check.py puts them: CDP_DATA_DOCS_DIR beside the
    build) list GX's sample values, masked."""
    emails, phones = identifiers
    rows = demo_db.execute(
        "select observed_value, details from quality.gx_validation_results"
    ).fetchall()
    assert rows
    texts = {"quality.gx_validation_results": "\n".join(map(repr, rows))}
    folders = [demo_run.build_dir / "data_docs", demo_run.build_dir.parent / "data_docs"]
    pages = [
        path
        for folder in folders
        if folder.is_dir()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in {".html", ".json"}
    ]
    assert pages, f"no Data Docs in {folders}"
    texts |= {str(path): path.read_text(errors="replace") for path in pages}
    found = {where: hits for where, text in texts.items() if (hits := leaks(text, emails, phones))}
    assert found == {}, found
