"""Input handling for causal discovery: tables to a float matrix + names, and the checks PC/FCI need."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ValidationError

__all__ = ["as_matrix", "check_data", "discretise", "integer_columns", "collinear_columns"]

log = logging.getLogger(__name__)


def as_matrix(data: Any, names: Sequence[str] | None, func: str, *,
              categorical: bool = False) -> tuple[np.ndarray, list[str]]:
    """Convert a DataFrame, astropy Table or 2-D array (+ ``names``) to ``(float array (n, p), names)``.

    With ``categorical``, pandas category columns become their integer codes (missing: NaN); otherwise they are
    refused like other non-numeric columns.
    """
    if hasattr(data, "colnames") and hasattr(data, "to_pandas"):      # astropy Table
        data = data.to_pandas()
    if isinstance(data, pd.DataFrame):
        if names is not None:
            missing = [n for n in names if n not in data.columns]
            if missing:
                raise ValidationError(f"{func}(): 'names' {missing} are not columns of 'data'; "
                                      f"available: {list(map(str, data.columns))}")
            data = data[list(names)]
        _check_unique([str(c) for c in data.columns], func)
        if categorical:
            data = _category_codes(data)
        bad = [str(c) for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
        if bad:
            hint = "" if categorical else " (category columns are accepted by test='chisq' or 'gsq')"
            raise ValidationError(f"{func}(): columns {bad} of 'data' are not numeric; encode or drop them{hint}")
        names = [str(c) for c in data.columns]
        x = data.to_numpy(dtype=float, na_value=np.nan)
    else:
        try:
            x = np.asarray(data, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{func}(): 'data' could not be converted to a numeric array ({exc})") from exc
        if x.ndim != 2:
            raise ValidationError(f"{func}(): 'data' must be 2-D (rows, variables); got shape {x.shape}")
        if names is None:
            names = [f"X{i}" for i in range(x.shape[1])]
        names = [str(n) for n in names]
        if len(names) != x.shape[1]:
            raise ValidationError(f"{func}(): 'names' has {len(names)} entries but 'data' has {x.shape[1]} columns")
    _check_unique(names, func)
    return x, list(names)


def _category_codes(data: pd.DataFrame) -> pd.DataFrame:
    cats = [c for c in data.columns if isinstance(data[c].dtype, pd.CategoricalDtype)]
    if not cats:
        return data
    codes = {c: data[c].cat.codes.where(data[c].notna()).astype(float) for c in cats}
    return pd.DataFrame({c: codes.get(c, data[c]) for c in data.columns}, index=data.index)


def _check_unique(names: Sequence[str], func: str) -> None:
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if list(names).count(n) > 1})
        raise ValidationError(f"{func}(): duplicate variable names {dup} in 'data'; rename or drop the repeated "
                              "columns")


def _check_finite_columns(x: np.ndarray, names: Sequence[str], func: str, allow_nan: bool) -> None:
    """NaN / inf in ``x`` named by column, with counts and the first rows."""
    bad = np.isinf(x) if allow_nan else ~np.isfinite(x)
    if not bad.any():
        return
    parts = []
    for j in np.flatnonzero(bad.any(axis=0)):
        n_nan = int(np.isnan(x[:, j]).sum()) if not allow_nan else 0
        n_inf = int(np.isinf(x[:, j]).sum())
        what = " and ".join(t for t in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} infinite" if n_inf else "") if t)
        rows = ", ".join(str(i) for i in np.flatnonzero(bad[:, j])[:5]) + (", ..." if bad[:, j].sum() > 5 else "")
        parts.append(f"'data' has {what} values (rows {rows}) in column {names[j]!r}")
    raise ValidationError(f"{func}(): {'; '.join(parts)}; drop or impute them first")


def collinear_columns(x: np.ndarray, names: Sequence[str], tol: float = 1e-10) -> list[list[str]]:
    """Groups of columns that are (numerically) perfectly linearly dependent; empty if the correlation is full rank."""
    z = (x - x.mean(0)) / x.std(0)
    corr = (z.T @ z) / len(z)
    w, v = np.linalg.eigh(corr)
    null = v[:, w < tol * max(w.max(), 1.0)]
    groups = []
    for k in range(null.shape[1]):
        members = [names[i] for i in np.flatnonzero(np.abs(null[:, k]) > 1e-6)]
        if members and members not in groups:
            groups.append(members)
    return groups


def check_data(x: np.ndarray, names: Sequence[str], func: str, *, allow_nan: bool = False,
               linear: bool = True, allow_constant: bool = False) -> None:
    """Raise for NaNs/infs, too few rows, constant columns (unless ``allow_constant``: chisq/gsq handle them)
    and (for ``linear`` tests) collinear columns."""
    n, p = x.shape
    if p < 2:
        raise ValidationError(f"{func}(): need at least 2 variables; got {p}")
    need = max(10, p + 3)
    if n < need:
        raise ValidationError(f"{func}(): 'data' has {n} rows but {p} variables need at least {need}; "
                              "add rows or drop variables")
    _check_finite_columns(x, names, func, allow_nan)
    std = np.nanstd(x, axis=0)
    const = [names[i] for i in np.flatnonzero(~(std > 0))]
    if const and not allow_constant:
        raise ValidationError(f"{func}(): columns {const} are constant; drop them (a constant has no causes), or "
                              "use test='chisq' or 'gsq', which handle them")
    if linear and not allow_nan:
        groups = collinear_columns(x, names)
        if groups:
            desc = "; ".join(", ".join(g) for g in groups)
            raise ValidationError(f"{func}(): columns are perfectly collinear (singular correlation matrix): "
                                  f"{desc}; drop one column of each group")


def integer_columns(x: np.ndarray) -> np.ndarray:
    """Boolean mask, shape (p,): columns whose finite values are all whole numbers (integer or category codes)."""
    finite = np.where(np.isfinite(x), x, 0.0)
    return np.all(finite == np.round(finite), axis=0)


def discretise(x: np.ndarray, names: Sequence[str], bins: int, func: str = "discover") -> np.ndarray:
    """Quantile-bin the continuous columns into ``bins`` levels for chisq/gsq.

    Integer-valued columns (integers, booleans, category codes) are never re-binned: their levels are used as
    they are, as causal-learn does. A column with non-integer values and more than ``bins`` distinct values is
    binned, and that is logged at warning level.
    """
    out = x.copy()
    whole = integer_columns(x)
    binned = []
    for j in range(x.shape[1]):
        if not whole[j] and np.unique(x[:, j]).size > bins:
            edges = np.quantile(x[:, j], np.linspace(0, 1, bins + 1)[1:-1])
            out[:, j] = np.searchsorted(edges, x[:, j], side="right")
            binned.append(names[j])
    if binned:
        log.warning("%s(): quantile-binned the continuous columns %s into %d levels for a discrete test; "
                    "integer and categorical columns keep their own levels", func, binned, bins)
    return out
