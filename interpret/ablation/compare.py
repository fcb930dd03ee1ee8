"""Masking versus retraining, side by side: what the model relies on versus what the bands carry."""
from __future__ import annotations

import pandas as pd

from ..exceptions import ValidationError
from ._result import AblationResult

__all__ = ["compare_modes"]


def compare_modes(masked: AblationResult, retrained: AblationResult, metric: str | None = None) -> pd.DataFrame:
    """Join a masking and a retraining ablation on their common subsets.

    Masking (the trained model with bands filled in) measures what the model **relies on**; retraining
    (a model refitted without the bands) measures what **information** the bands carry that the others do
    not. A large masking loss with a small retraining loss means the model leans on a band whose information
    is redundant with the others.

    Parameters
    ----------
    masked, retrained : AblationResult
        Results of ``band_ablation(estimator, ...)`` (mask mode) and ``band_ablation(None, ...,
        retrain=RetrainSpec(fit))``.
    metric : str, optional
        Metric to compare (default: the first metric common to both).

    Returns
    -------
    pandas.DataFrame
        Indexed by subset label: ``kept``, ``dropped``, ``<metric>_mask``, ``<metric>_retrain``,
        ``delta_<metric>_mask``, ``delta_<metric>_retrain``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from interpret.ablation import RetrainSpec, band_ablation
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(400, 2)); x[:, 1] = x[:, 0] + 0.01 * rng.normal(size=400)
    >>> y = x[:, 0] + 5
    >>> model = LinearRegression().fit(x, y)
    >>> m = band_ablation(model, x, y, bands=["a", "b"], metrics="rmse", progress=False)
    >>> r = band_ablation(None, x, y, bands=["a", "b"], metrics="rmse", seed=0, progress=False,
    ...                   retrain=RetrainSpec(lambda xs, ys: LinearRegression().fit(xs, ys)))
    >>> list(compare_modes(m, r).columns)[-2:]
    ['delta_rmse_mask', 'delta_rmse_retrain']
    """
    if masked.mode != "mask" or retrained.mode != "retrain":
        raise ValidationError(f"compare_modes(): expects a mask-mode then a retrain-mode result; got modes "
                              f"{masked.mode!r} and {retrained.mode!r}")
    common = [m for m in masked.metrics if m in retrained.metrics]
    if metric is None:
        if not common:
            raise ValidationError("compare_modes(): the two results share no metric")
        metric = common[0]
    elif metric not in common:
        raise ValidationError(f"compare_modes(): metric {metric!r} is not in both results; common metrics "
                              f"are {common}")
    cols = ["label", "kept", "dropped", metric, f"delta_{metric}"]
    left = masked.table[cols].set_index("label").rename(
        columns={metric: f"{metric}_mask", f"delta_{metric}": f"delta_{metric}_mask"})
    right = retrained.table[["label", metric, f"delta_{metric}"]].set_index("label").rename(
        columns={metric: f"{metric}_retrain", f"delta_{metric}": f"delta_{metric}_retrain"})
    joined = left.join(right, how="inner")
    return joined[["kept", "dropped", f"{metric}_mask", f"{metric}_retrain", f"delta_{metric}_mask",
                   f"delta_{metric}_retrain"]]
