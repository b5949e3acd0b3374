"""Predictive traits: purchase propensity in the next 30 days, and churn risk.

Trained on a time split that the dbt model `customer_features` lays out
(dbt_project/models/marts/ml/): features as of a cut-off 30 days before "now" (the build's
as_of) with labels from the 30 days after it (`training`), and the same features as of
now (`scoring`). Here the model is only fitted, evaluated on a holdout of persons against
a recency-only baseline, and applied: no SQL. Deterministic for a given seed and data.

* purchase: will the person place a revenue order (paid/fulfilled) in the next 30 days?
* churn: will a person active in the last 90 days show no visit and no order in the next
  30 days?
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

HOLDOUT_SHARE = 5  # one person in five (by a hash of the person id) is held out
MIN_TRAINING_ROWS = 100

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


TRAINING = "training"
SCORING = "scoring"


def split_feature_sets(features: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training and scoring rows of `customer_features`, each in person order (the
    fit is deterministic for a given row order, whatever order the warehouse returns)."""

    def one(name: str) -> pd.DataFrame:
        rows = features[features["feature_set"] == name]
        return rows.sort_values("person_id", kind="stable").reset_index(drop=True)

    return one(TRAINING), one(SCORING)


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
    as_of: datetime | None  # None when the warehouse has no person with features yet
    cutoff: datetime | None
    purchase: TargetResult
    churn: TargetResult
    predictions: pd.DataFrame


def _as_of(frame: pd.DataFrame) -> datetime | None:
    return frame["features_as_of_at"].iloc[0].to_pydatetime() if len(frame) else None


def predict(features: pd.DataFrame, seed: int = 42) -> PredictionRun:
    """Train both targets on the `training` rows of `customer_features` and score its
    `scoring` rows (everyone as of now)."""
    training, scoring = split_feature_sets(features)
    as_of, cutoff = _as_of(scoring), _as_of(training)
    purchased = training["has_purchased_after"].astype(bool).astype(int)
    came_back = training["was_active_after"].astype(bool).astype(int)
    recency = recency_days(training)

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
    predictions["predicted_at"] = pd.Timestamp(as_of) if as_of is not None else pd.NaT
    return PredictionRun(as_of, cutoff, purchase, churn, predictions)
