"""Predictive traits: purchase propensity in the next 30 days, and churn risk.

Trained on a time split: features as of a cut-off 30 days before "now" (the build's
as_of), labels from the 30 days after the cut-off; evaluated on a holdout of persons
against a recency-only baseline; then applied to features as of now. Deterministic for a
given seed and data.

* purchase: will the person place a revenue order (paid/fulfilled) in the next 30 days?
* churn: will a person active in the last 90 days show no visit and no order in the next
  30 days?
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

HORIZON_DAYS = 30
HOLDOUT_SHARE = 5  # one person in five (by a hash of the person id) is held out
MIN_TRAINING_ROWS = 100

FEATURES_SQL = """
with
events as (
    select person_id, event_at, event_name, event_type, is_email_event, session_id
    from marts.fct_events
    where person_id is not null and event_at <= $cutoff
),
orders as (
    select person_id, created_at, total_usd, is_revenue
    from marts.fct_orders
    where person_id is not null and created_at <= $cutoff
),
event_features as (
    select
        person_id,
        date_diff('second', max(event_at) filter (where not is_email_event), $cutoff) / 86400.0
            as days_since_last_visit,
        date_diff('second', min(event_at), $cutoff) / 86400.0 as tenure_days,
        count(*) filter (where not is_email_event and event_at > $cutoff - interval 7 day)
            as events_7d,
        count(*) filter (where not is_email_event and event_at > $cutoff - interval 30 day)
            as events_30d,
        count(*) filter (where not is_email_event and event_at > $cutoff - interval 90 day)
            as events_90d,
        count(distinct session_id) filter (where event_at > $cutoff - interval 30 day)
            as sessions_30d,
        count(*) filter (
            where event_name = 'Product Viewed' and event_at > $cutoff - interval 30 day
        ) as product_views_30d,
        count(*) filter (
            where event_name = 'Product Added' and event_at > $cutoff - interval 30 day
        ) as products_added_30d,
        count(*) filter (
            where event_name = 'Checkout Started' and event_at > $cutoff - interval 30 day
        ) as checkouts_30d,
        count(*) filter (
            where event_name = 'Email Opened' and event_at > $cutoff - interval 30 day
        ) as email_opens_30d,
        count(*) filter (
            where event_name = 'Email Clicked' and event_at > $cutoff - interval 30 day
        ) as email_clicks_30d
    from events
    group by person_id
),
order_features as (
    select
        person_id,
        count(*) filter (where is_revenue) as orders,
        coalesce(sum(total_usd) filter (where is_revenue), 0)::double as revenue_usd,
        count(*) filter (where is_revenue and created_at > $cutoff - interval 90 day)
            as orders_90d,
        date_diff('second', max(created_at) filter (where is_revenue), $cutoff) / 86400.0
            as days_since_last_order
    from orders
    group by person_id
),
persons as (
    select person_id from event_features union select person_id from order_features
)
select
    persons.person_id,
    event_features.days_since_last_visit,
    event_features.tenure_days,
    coalesce(event_features.events_7d, 0) as events_7d,
    coalesce(event_features.events_30d, 0) as events_30d,
    coalesce(event_features.events_90d, 0) as events_90d,
    coalesce(event_features.sessions_30d, 0) as sessions_30d,
    coalesce(event_features.product_views_30d, 0) as product_views_30d,
    coalesce(event_features.products_added_30d, 0) as products_added_30d,
    coalesce(event_features.checkouts_30d, 0) as checkouts_30d,
    coalesce(event_features.email_opens_30d, 0) as email_opens_30d,
    coalesce(event_features.email_clicks_30d, 0) as email_clicks_30d,
    coalesce(order_features.orders, 0) as orders,
    coalesce(order_features.revenue_usd, 0) as revenue_usd,
    coalesce(order_features.orders_90d, 0) as orders_90d,
    order_features.days_since_last_order
from persons
left join event_features on persons.person_id = event_features.person_id
left join order_features on persons.person_id = order_features.person_id
order by persons.person_id
"""

LABELS_SQL = """
select
    person_id,
    max(case when source = 'order' then 1 else 0 end) as purchased,
    max(1) as active
from (
    select person_id, 'order' as source from marts.fct_orders
    where person_id is not null and is_revenue
        and created_at > $cutoff and created_at <= $horizon
    union all
    select person_id, 'visit' as source from marts.fct_events
    where person_id is not null and not is_email_event
        and event_at > $cutoff and event_at <= $horizon
) as after_cutoff
group by person_id
"""

FEATURE_COLUMNS = [
    "days_since_last_visit",
    "tenure_days",
    "events_7d",
    "events_30d",
    "events_90d",
    "sessions_30d",
    "product_views_30d",
    "products_added_30d",
    "checkouts_30d",
    "email_opens_30d",
    "email_clicks_30d",
    "orders",
    "revenue_usd",
    "orders_90d",
    "days_since_last_order",
]


def features_as_of(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> pd.DataFrame:
    return con.execute(FEATURES_SQL, {"cutoff": cutoff}).df()


def labels_after(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> pd.DataFrame:
    horizon = cutoff + timedelta(days=HORIZON_DAYS)
    return con.execute(LABELS_SQL, {"cutoff": cutoff, "horizon": horizon}).df()


def is_holdout(person_id: str) -> bool:
    """A stable split: the same person is always on the same side."""
    return int(hashlib.sha256(person_id.encode()).hexdigest(), 16) % HOLDOUT_SHARE == 0


def recency_days(frame: pd.DataFrame) -> np.ndarray:
    """Days since the last visit or order, the baseline's only signal."""
    visit = frame["days_since_last_visit"].fillna(10_000)
    order = frame["days_since_last_order"].fillna(10_000)
    return np.minimum(visit.to_numpy(), order.to_numpy())


@dataclass
class TargetResult:
    name: str
    trained: bool
    reason: str = ""
    training_rows: int = 0
    holdout_rows: int = 0
    positive_rate: float = 0.0
    holdout_auc: float | None = None
    baseline_auc: float | None = None
    scores: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


def _train_target(
    name: str,
    frame: pd.DataFrame,
    label: pd.Series,
    baseline_score: np.ndarray,
    score_frame: pd.DataFrame,
    seed: int,
) -> TargetResult:
    holdout = frame["person_id"].map(is_holdout).to_numpy()
    y = label.to_numpy()
    result = TargetResult(
        name=name,
        trained=False,
        training_rows=int((~holdout).sum()),
        holdout_rows=int(holdout.sum()),
        positive_rate=float(y.mean()) if len(y) else 0.0,
    )
    if result.training_rows < MIN_TRAINING_ROWS:
        result.reason = f"only {result.training_rows} training rows (need {MIN_TRAINING_ROWS})"
        return result
    if len(set(y[~holdout])) < 2 or len(set(y[holdout])) < 2:
        result.reason = "the labels have one class only"
        return result
    model = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        l2_regularization=1.0,
        random_state=seed,
    )
    x = frame[FEATURE_COLUMNS].to_numpy(dtype=float)
    model.fit(x[~holdout], y[~holdout])
    result.holdout_auc = float(roc_auc_score(y[holdout], model.predict_proba(x[holdout])[:, 1]))
    result.baseline_auc = float(roc_auc_score(y[holdout], baseline_score[holdout]))
    # Refit on everyone before scoring: the holdout only measured the method.
    model.fit(x, y)
    scores = model.predict_proba(score_frame[FEATURE_COLUMNS].to_numpy(dtype=float))[:, 1]
    result.scores = pd.Series(scores, index=score_frame["person_id"].to_numpy())
    result.trained = True
    return result


@dataclass
class PredictionRun:
    as_of: datetime
    cutoff: datetime
    purchase: TargetResult
    churn: TargetResult
    predictions: pd.DataFrame


def predict(con: duckdb.DuckDBPyConnection, as_of: datetime, seed: int = 42) -> PredictionRun:
    """Train both targets on the time split and score everyone as of `as_of`."""
    cutoff = as_of - timedelta(days=HORIZON_DAYS)
    training = features_as_of(con, cutoff)
    labels = labels_after(con, cutoff).set_index("person_id")
    purchased = training["person_id"].map(labels["purchased"]).fillna(0).astype(int)
    came_back = training["person_id"].map(labels["active"]).fillna(0).astype(int)
    recency = recency_days(training)

    scoring = features_as_of(con, as_of)
    purchase = _train_target("purchase_30d", training, purchased, -recency, scoring, seed)

    # Churn is asked of people active in the 90 days before the cut-off.
    active = (training["events_90d"] > 0) | (training["orders_90d"] > 0)
    scoring_active = (scoring["events_90d"] > 0) | (scoring["orders_90d"] > 0)
    churn = _train_target(
        "churn_30d",
        training[active].reset_index(drop=True),
        (1 - came_back[active]).reset_index(drop=True),
        recency[active.to_numpy()],
        scoring[scoring_active].reset_index(drop=True),
        seed,
    )
    predictions = pd.DataFrame({"person_id": scoring["person_id"]})
    predictions["purchase_propensity_30d"] = predictions["person_id"].map(purchase.scores)
    predictions["churn_risk"] = predictions["person_id"].map(churn.scores)
    predictions["predicted_at"] = pd.Timestamp(as_of)
    return PredictionRun(as_of, cutoff, purchase, churn, predictions)
