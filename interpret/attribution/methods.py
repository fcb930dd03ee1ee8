"""Attribution methods: one class per method, bound to an estimator once, one ``attribute()`` signature.

Every method is a class: ``IntegratedGradients(estimator, *, device=None, batch_size=64, progress=None)`` binds
the model, and ``.attribute(x, *, target=None, baselines=None, <its typed options>, seed=None)`` returns an
:class:`~interpret.attribution.Attribution` (the pattern of captum's ``attr`` classes). The functional front
door :func:`interpret.attribution.attribute` (``method=NAME, **options``) looks the class up in
:data:`METHODS` and refuses options its ``attribute()`` does not take. Gradient methods need a differentiable
torch module (``estimator.module``); :class:`~interpret.attribution.perturbation.Occlusion` and
:class:`~interpret.attribution.perturbation.FeatureAblation` also work with sklearn models or other
estimators through ``estimator.predict``.

References: Simonyan et al. 2013 (saliency, arXiv:1312.6034); Shrikumar et al. 2016/2017 (input x gradient,
DeepLIFT, arXiv:1605.01713, arXiv:1704.02685); Sundararajan et al. 2017 (IG, arXiv:1703.01365); Lundberg &
Lee 2017 (SHAP, arXiv:1705.07874); Smilkov et al. 2017 (SmoothGrad, arXiv:1706.03825).
"""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from captum import attr as cattr

from .._guards import check_memory
from .._memory import WORKING_SET_BYTES, cpu_pass_rows
from .._validation import check_choice, check_int, spawn_seeds
from ..exceptions import ValidationError
from . import _batching as B
from ._model import bind_model
from .baselines import baseline_distribution, make_baselines
from .fused_ig import PRECISIONS, RULES, captum_method_name, check_steps, fused_integrated_gradients
from .fused_sampled import NT_TYPES, fused_gradient_shap, fused_smoothgrad
from .result import Attribution

__all__ = ["METHODS", "AttributionMethod", "MethodOutput", "register", "IntegratedGradients", "Saliency",
           "InputXGradient", "DeepLift", "DeepLiftShap", "GradientShap", "SmoothGrad"]

METHODS: dict[str, type[AttributionMethod]] = {}
_CALL = ("self", "x", "target", "baselines", "seed")    # every attribute() takes these; the rest are options


def register(cls: type[AttributionMethod]) -> type[AttributionMethod]:
    """Add a method class to :data:`METHODS` under ``cls.name``."""
    METHODS[cls.name] = cls
    return cls


@dataclass
class MethodOutput:
    """What a method returns before it is wrapped into an Attribution."""

    values: tuple[np.ndarray, ...]
    output: np.ndarray | None = None
    baseline_output: np.ndarray | None = None
    delta: np.ndarray | None = None
    n_steps: np.ndarray | None = None


class AttributionMethod:
    """Base class of the attribution methods: bind an estimator once, then call :meth:`attribute`.

    The constructor resolves the estimator for a device (a copy of the torch module there when it lives
    elsewhere) and stores the chunking; every subclass's ``attribute(x, *, target=None, baselines=None,
    <its options>, seed=None)`` validates its keyword options, with their defaults in its signature, and returns
    an :class:`~interpret.attribution.Attribution`. :func:`interpret.attribution.attribute` is the functional
    front door: ``attribute(estimator, x, method=NAME, **options)`` builds the class registered under NAME in
    :data:`METHODS` and calls it. A subclass implements ``_compute(model, chunks, baselines, options, *,
    progress, seed) -> MethodOutput``.

    Parameters
    ----------
    estimator : torch.nn.Module or Estimator
        A torch module, or an estimator from :func:`interpret.load_estimator`. Gradient methods need a
        differentiable module (``estimator.module``); the perturbation methods also take sklearn models and
        other estimators with a ``predict``.
    device : str or torch.device, optional
        "cpu" or "cuda"; default: the estimator's device. A module on another device is copied there once,
        so later changes to the caller's weights are not seen by that copy.
    batch_size : int or "auto", default 64
        Galaxies per chunk (memory is bounded by one chunk); ``"auto"`` sizes the chunk from a probe pass to fit
        ``memory_budget`` (:func:`interpret._memory.auto_batch_size`).
    progress : bool, optional
        Progress bar over chunks (None: on for long work on a terminal, off under CI; False: silent).
    memory_budget : int, optional
        Bytes for ``batch_size="auto"`` (default: the library's budget for the device).
    """

    name: ClassVar[str] = ""
    needs_module: ClassVar[bool] = True     # gradients (or DeepLift rules) need a torch module
    stochastic: ClassVar[bool] = False
    single_reference: ClassVar[bool] = False   # one baseline per galaxy: default_baselines() when None

    def __init__(self, estimator: Any, *, device: str | torch.device | None = None, batch_size: int | str = 64,
                 progress: bool | None = None, memory_budget: int | None = None):
        cls = type(self).__name__
        self.auto_batch = isinstance(batch_size, str) and batch_size == "auto"
        self.batch_size = 64 if self.auto_batch else check_int(batch_size, "batch_size", cls, minimum=1)
        if memory_budget is not None:
            check_int(memory_budget, "memory_budget", cls, minimum=1)
        if progress is not None and not isinstance(progress, bool):
            raise ValidationError(f"{cls}(): 'progress' must be True, False or None; got {progress!r}")
        self.memory_budget, self.progress, self.estimator = memory_budget, progress, estimator
        self.bound = bind_model(estimator, device=device, batch_size=self.batch_size, func=cls)
        if self.needs_module and self.bound.module is None:
            raise ValidationError(f"{cls}(): method {self.name!r} needs a differentiable torch module but the "
                                  "estimator has none (sklearn or callable); use FeatureAblation or Occlusion "
                                  "(method='feature_ablation' or 'occlusion')")

    def __repr__(self) -> str:
        model = type(self.bound.module if self.bound.module is not None else self.estimator).__name__
        batch = "'auto'" if self.auto_batch else self.batch_size
        return f"{type(self).__name__}({model}, device='{self.bound.device}', batch_size={batch})"

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The method's keyword options: the parameters of its ``attribute()`` besides x, target, baselines
        and seed."""
        return tuple(p for p in inspect.signature(cls.attribute).parameters if p not in _CALL)

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None,
                  seed: int | np.random.Generator | None = None) -> Attribution:
        """Attribute output ``target`` to the inputs ``x`` (N, ...) galaxy by galaxy."""
        return self._run(x, target, baselines, {}, seed)

    def _run(self, x: Any, target: Any, baselines: Any, options: dict, seed: Any) -> Attribution:
        from ._pipeline import run

        return run(self, x, target=target, baselines=baselines, options=options, seed=seed)

    def params(self, options: dict) -> dict:
        """JSON-able record of the options used (arrays by shape; options left at None are omitted)."""
        def jsonable(v: Any) -> Any:
            if isinstance(v, (int, float, str, bool, type(None))):
                return v
            if isinstance(v, np.ndarray):
                return f"array{v.shape}"
            return repr(v)

        return {k: jsonable(v) for k, v in options.items() if v is not None}

    def _compute(self, model: Any, chunks: B.Chunks, baselines: Any, options: dict, *, progress: bool | None,
                 seed: Any) -> MethodOutput:  # pragma: no cover - abstract
        raise NotImplementedError


def _func(method: AttributionMethod) -> str:
    return f"{type(method).__name__}.attribute"


def _check_rows(value: Any, func: str) -> int | None:
    return None if value is None else check_int(value, "rows_per_pass", func, minimum=1)


def _check_bool(value: Any, name: str, func: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{func}(): '{name}' must be True or False; got {value!r}")
    return bool(value)


def _check_positive(value: Any, name: str, func: str, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise ValidationError(f"{func}(): '{name}' must be a {'non-negative' if zero else 'positive'} number; "
                              f"got {value!r}")
    return float(value)


def _captum_per_chunk(make: Any, model: Any, chunks: B.Chunks, base: tuple | None, kwargs: dict,
                      progress: bool | None, desc: str, delta: bool = False) -> tuple[tuple, np.ndarray | None]:
    algo = make(model.module)

    def one(sl: slice):
        xs = chunks.tensors(chunks.inputs, sl, grad=True)
        extra = {} if base is None else {"baselines": chunks.tensors(base, sl)}
        res = algo.attribute(xs, **extra, **kwargs, **({"return_convergence_delta": True} if delta else {}))
        return (B.as_tuple(res[0]), res[1].detach().cpu().numpy()) if delta else (B.as_tuple(res), None)

    parts = chunks.run(one, progress=progress, desc=desc)
    vals = B.to_numpy([p[0] for p in parts])
    return vals, (np.concatenate([p[1] for p in parts]) if delta else None)


@register
class IntegratedGradients(AttributionMethod):
    """Integrated Gradients on the fused engine: ``(x - b)`` times the path-averaged gradient from ``b`` to ``x``.

    Bind the estimator once (``IntegratedGradients(estimator, device=..., batch_size=...)``), then call
    :meth:`attribute` as often as needed. The fused engine runs every (node, galaxy) pair in a few large
    forward+backward passes (:mod:`interpret.attribution.fused_ig`); ``engine="captum"`` runs captum's
    implementation. The result carries f(x), f(b) and the completeness error ``delta`` per galaxy.

    References: Sundararajan, Taly & Yan 2017, arXiv:1703.01365.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    >>> ig = ip.IntegratedGradients(mlp, progress=False)
    >>> a = ig.attribute(x, baselines="zeros", n_steps=16)
    >>> a.values.shape, bool(np.abs(a.delta).max() < 1e-4)
    ((6, 4), True)
    """

    name = "integrated_gradients"
    single_reference = True

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None,
                  n_steps: int | str = 50, rule: str = "gauss_legendre", engine: str = "fused",
                  rows_per_pass: int | None = None, rtol: float = 1e-3, atol: float = 1e-6, max_steps: int = 256,
                  precision: str | None = None, working_set: int = WORKING_SET_BYTES,
                  seed: int | np.random.Generator | None = None) -> Attribution:
        """Integrated Gradients of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...): images (N, C, H, W), spectra (N, L), catalogue features (N, F), or a tuple of
            them for multi-input models.
        target : int, str or None
            Output to explain, by index or name; required for multi-output models.
        baselines : str, float, ndarray or tuple, optional
            Reference input: ``"zeros"``, ``"mean"``, ``"blurred"``, a scalar or an array (per galaxy or
            shared), one per input as a tuple. Default (None): the sample mean for tabular inputs (2-D, at most
            64 columns; better: pass the training mean ``x_train.mean(axis=0)``) and zeros for images and
            spectra (:func:`~interpret.attribution.baselines.default_baselines`). A
            :class:`~interpret.exceptions.BaselineWarning` says when f(baseline) is far outside the
            predictions' range: the attributions would then explain a jump from an input the model never sees.
        n_steps : int or "auto", default 50
            Quadrature nodes; ``"auto"`` doubles the nodes of every galaxy, from 16 up to ``max_steps``, until
            its completeness error is below ``atol + rtol * |f(x) - f(b)|``.
        rule : str, default "gauss_legendre"
            Quadrature rule, one of :data:`~interpret.attribution.RULES` (Gauss-Legendre with 16 nodes reaches
            the trapezoid rule's error at 64).
        engine : {"fused", "captum"}, default "fused"
            The fused engine, or captum's ``IntegratedGradients``.
        rows_per_pass : int, optional
            (node, galaxy) rows per forward+backward pass; default: cache-sized on the CPU
            (:func:`interpret._memory.cpu_pass_rows`), ``batch_size * n_steps`` on a GPU.
        rtol, atol : float, default 1e-3 and 1e-6
            Completeness tolerance of ``n_steps="auto"``.
        max_steps : int, default 256
            Most nodes per galaxy for ``n_steps="auto"``.
        precision : {"float32", "bfloat16", "float16"} or None, default None
            Autocast dtype of the path passes (fused engine); ``params["completeness_max_rel_error"]`` reports
            how well completeness still holds.
        working_set : int, default :data:`interpret._memory.WORKING_SET_BYTES` (1 GiB)
            Bytes held on the CPU besides inputs and outputs; caps the rows per pass and galaxies per chunk.
        seed : int or Generator, optional
            Unused (IG is deterministic); accepted so that every method has one signature.

        Returns
        -------
        Attribution
            ``values`` shaped like ``x``, f(x), f(b), ``delta`` and the nodes used per galaxy.
        """
        f = _func(self)
        check_choice(rule, "rule", f, RULES)
        if not (isinstance(n_steps, str) and n_steps == "auto"):
            n_steps = check_steps(check_int(n_steps, "n_steps", f, minimum=2 if rule == "trapezoid" else 1))
        check_choice(engine, "engine", f, ("fused", "captum"))
        if precision is not None:
            check_choice(precision, "precision", f, PRECISIONS)
        if precision not in (None, "float32") and engine != "fused":
            raise ValidationError(f"{f}(): 'precision' (mixed precision) needs engine='fused'; got "
                                  f"engine={engine!r}")
        if n_steps == "auto" and engine != "fused":
            raise ValidationError(f"{f}(): n_steps='auto' needs engine='fused'")
        opts = {"n_steps": n_steps, "rule": rule, "engine": engine, "rows_per_pass": _check_rows(rows_per_pass, f),
                "rtol": _check_positive(rtol, "rtol", f, zero=True),
                "atol": _check_positive(atol, "atol", f, zero=True),
                "max_steps": check_int(max_steps, "max_steps", f, minimum=1), "precision": precision,
                "working_set": check_int(working_set, "working_set", f, minimum=1)}
        return self._run(x, target, baselines, opts, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        base = make_baselines(chunks.inputs, baselines)
        if o["engine"] == "fused":
            rows, galaxies = _ig_working_set(o, model, chunks)
            r = fused_integrated_gradients(
                model.forward, chunks.inputs, base, n_steps=o["n_steps"], rule=o["rule"],
                batch_size=galaxies, rows_per_pass=rows, device=chunks.device, rtol=o["rtol"], atol=o["atol"],
                max_steps=o["max_steps"], progress=progress, precision=o["precision"], dtype=chunks.dtype)
            return MethodOutput(r.values, r.output, r.baseline_output, r.delta, r.n_steps)
        n = o["n_steps"]
        if o["rule"] == "gauss_legendre":     # captum builds its nodes from an n_steps x n_steps matrix
            check_memory("attribute", f"n_steps={n} Gauss-Legendre nodes in captum (an n_steps^2 matrix)",
                         24.0 * n * n, "'n_steps'", hint="or use engine='fused', which needs no such matrix")
        kw = {"n_steps": n, "method": captum_method_name(o["rule"]), "internal_batch_size": o["rows_per_pass"]}
        vals, delta = _captum_per_chunk(lambda m: cattr.IntegratedGradients(m), model, chunks, base, kw,
                                        progress, "IG (captum)", delta=True)
        fb = B.forward_outputs(model.forward, chunks, base)
        return MethodOutput(vals, None, fb, delta, np.full(len(fb), n))


@register
class Saliency(AttributionMethod):
    """Saliency: the gradient of the output with respect to each input pixel or feature.

    The cheapest map (one forward+backward pass); it shows where the output is sensitive, not how much each
    input contributes (see :class:`InputXGradient`, :class:`IntegratedGradients`).

    References: Simonyan, Vedaldi & Zisserman 2013, arXiv:1312.6034.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    >>> ip.Saliency(mlp, progress=False).attribute(x).values.shape
    (6, 4)
    """

    name = "saliency"

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None, abs: bool = True,
                  seed: int | np.random.Generator | None = None) -> Attribution:
        """Gradient map of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...), or a tuple of them for multi-input models.
        target : int, str or None
            Output to explain; required for multi-output models.
        baselines : None
            Unused (saliency has no reference input); accepted so that every method has one signature.
        abs : bool, default True
            Take the gradient's magnitude (captum's default); False keeps its sign.
        seed : int or Generator, optional
            Unused (deterministic).

        Returns
        -------
        Attribution
        """
        return self._run(x, target, baselines, {"abs": _check_bool(abs, "abs", _func(self))}, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        kw = {"abs": o["abs"]}
        return MethodOutput(_captum_per_chunk(cattr.Saliency, model, chunks, None, kw, progress, self.name)[0])


@register
class InputXGradient(AttributionMethod):
    """Input times gradient: equals Integrated Gradients from a zero baseline for a linear model.

    References: Shrikumar et al. 2016, arXiv:1605.01713.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    >>> ip.InputXGradient(mlp, progress=False).attribute(x).values.shape
    (6, 4)
    """

    name = "input_x_gradient"

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None,
                  seed: int | np.random.Generator | None = None) -> Attribution:
        """Input x gradient map of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...), or a tuple of them for multi-input models.
        target : int, str or None
            Output to explain; required for multi-output models.
        baselines : None
            Unused (the implicit reference is zero); accepted so that every method has one signature.
        seed : int or Generator, optional
            Unused (deterministic).

        Returns
        -------
        Attribution
        """
        return self._run(x, target, baselines, {}, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        return MethodOutput(_captum_per_chunk(cattr.InputXGradient, model, chunks, None, {}, progress,
                                              self.name)[0])


@register
class DeepLift(AttributionMethod):
    """DeepLIFT rescale rule relative to a baseline; reports its completeness delta.

    Needs a module whose non-linearities are distinct ``nn.Module`` instances (captum's requirement).

    References: Shrikumar, Greenside & Kundaje 2017, arXiv:1704.02685.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    >>> a = ip.DeepLift(mlp, progress=False).attribute(x, baselines="zeros")
    >>> a.values.shape, a.baseline_output.shape
    ((6, 4), (6,))
    """

    name = "deeplift"
    single_reference = True

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None,
                  multiply_by_inputs: bool = True, seed: int | np.random.Generator | None = None) -> Attribution:
        """DeepLIFT attributions of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...), or a tuple of them for multi-input models.
        target : int, str or None
            Output to explain; required for multi-output models.
        baselines : str, float, ndarray or tuple, optional
            Reference input, as for :meth:`IntegratedGradients.attribute` (default: mean for tabular inputs,
            zeros for images and spectra).
        multiply_by_inputs : bool, default True
            Global attributions (multipliers times ``x - b``); False returns the local multipliers.
        seed : int or Generator, optional
            Unused (deterministic).

        Returns
        -------
        Attribution
        """
        mbi = _check_bool(multiply_by_inputs, "multiply_by_inputs", _func(self))
        return self._run(x, target, baselines, {"multiply_by_inputs": mbi}, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        base = make_baselines(chunks.inputs, baselines)
        mbi = o["multiply_by_inputs"]
        with warnings.catch_warnings():   # captum announces its temporary hooks on every call
            warnings.filterwarnings("ignore", message="Setting forward, backward hooks", category=UserWarning)
            vals, delta = _captum_per_chunk(lambda m: cattr.DeepLift(m, multiply_by_inputs=mbi), model, chunks,
                                            base, {}, progress, self.name, delta=True)
        fb = B.forward_outputs(model.forward, chunks, base)
        return MethodOutput(vals, None, fb, delta)


def _distribution_call(algo_factory, model, chunks, baselines, kwargs, n_baselines, progress, seed, desc):
    dist_seed, chunk_seed = spawn_seeds(seed, 2)
    dist = baseline_distribution(chunks.inputs, baselines, n_baselines=n_baselines,
                                 rng=np.random.default_rng(dist_seed))
    dist_t = chunks.tensors(dist)
    algo = algo_factory(model.module)

    def one(sl, gen):
        with B.seeded_globals(B.torch_seed(gen), chunks.device):
            return B.as_tuple(algo.attribute(chunks.tensors(chunks.inputs, sl, grad=True), baselines=dist_t, **kwargs))

    parts = chunks.run(one, progress=progress, desc=desc, seed=B.torch_seed(np.random.default_rng(chunk_seed)))
    return B.to_numpy(parts), dist


def _ig_working_set(opts: dict, model: Any, chunks: B.Chunks) -> tuple[int | None, int]:
    """(rows per pass, galaxies per chunk) of the fused IG engine within ``working_set`` bytes on the CPU.

    Half the set goes to one forward+backward pass (rows sized from the activations), half to the chunk's
    buffers: about 6 input-sized rows per galaxy (input, baseline, difference, gradient sum, attribution, and
    the copy written out).
    """
    rows = _pass_rows(opts, model, chunks)
    if chunks.device.type != "cpu":
        return rows, chunks.batch_size
    ws = opts.get("working_set", WORKING_SET_BYTES)
    steps = opts["n_steps"] if isinstance(opts["n_steps"], int) else 16
    cap = cpu_pass_rows(model.module, tuple(a[:8] for a in chunks.inputs), target_bytes=ws // 2)
    rows = min(rows if rows is not None else chunks.batch_size * steps, cap)
    per_galaxy = 6 * sum(a[:1].nbytes for a in chunks.inputs)
    return rows, max(1, min(chunks.batch_size, ws // 2 // max(per_galaxy, 1)))


def _pass_rows(opts: dict, model: Any, chunks: B.Chunks) -> int | None:
    """Rows per pass of a fused engine: the user's ``rows_per_pass``, else cache-sized on the CPU (where such
    passes run fastest), else None (the engine's large GPU passes)."""
    rows = opts.get("rows_per_pass")
    if rows is None and chunks.device.type == "cpu":
        rows = cpu_pass_rows(model.module, tuple(a[:8] for a in chunks.inputs))
    return rows


@register
class DeepLiftShap(AttributionMethod):
    """DeepLIFT averaged over a distribution of baselines (default: ``n_baselines`` random galaxies of ``x``).

    References: Lundberg & Lee 2017, arXiv:1705.07874; Shrikumar, Greenside & Kundaje 2017, arXiv:1704.02685.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    >>> a = ip.DeepLiftShap(mlp, progress=False).attribute(x, n_baselines=4, seed=0)
    >>> a.values.shape
    (6, 4)
    """

    name = "deeplift_shap"
    stochastic = True

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None, n_baselines: int = 16,
                  seed: int | np.random.Generator | None = None) -> Attribution:
        """DeepLiftShap attributions of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...), or a tuple of them for multi-input models.
        target : int, str or None
            Output to explain; required for multi-output models.
        baselines : str, float, ndarray (K, ...) or tuple, optional
            The reference distribution; default: ``n_baselines`` galaxies drawn from ``x``.
        n_baselines : int, default 16
            Galaxies drawn from ``x`` as references when ``baselines`` is None.
        seed : int or Generator, optional
            Draw of the references (None: fresh; an int: reproducible).

        Returns
        -------
        Attribution
        """
        nb = check_int(n_baselines, "n_baselines", _func(self), minimum=1)
        return self._run(x, target, baselines, {"n_baselines": nb}, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Setting forward, backward hooks", category=UserWarning)
            vals, _ = _distribution_call(cattr.DeepLiftShap, model, chunks, baselines, {}, o["n_baselines"],
                                         progress, seed, self.name)
        return MethodOutput(vals)


@register
class GradientShap(AttributionMethod):
    """Expected gradients: IG-like path samples between random baselines and noisy inputs.

    Each of ``n_samples`` draws per galaxy picks a baseline from a distribution, a point on the path to the
    (noisy) input and takes the gradient there; the fused engine
    (:func:`~interpret.attribution.fused_sampled.fused_gradient_shap`) runs them in large passes.

    References: Lundberg & Lee 2017, arXiv:1705.07874; Erion et al. 2021, arXiv:1906.10670.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    >>> a = ip.GradientShap(mlp, progress=False).attribute(x, n_samples=8, seed=0)
    >>> a.values.shape
    (6, 4)
    """

    name = "gradient_shap"
    stochastic = True

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None, n_samples: int = 16,
                  stdevs: float = 0.0, n_baselines: int = 16, engine: str = "fused",
                  rows_per_pass: int | None = None, seed: int | np.random.Generator | None = None) -> Attribution:
        """GradientShap attributions of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...), or a tuple of them for multi-input models.
        target : int, str or None
            Output to explain; required for multi-output models.
        baselines : str, float, ndarray (K, ...) or tuple, optional
            The reference distribution; default: ``n_baselines`` galaxies drawn from ``x``.
        n_samples : int, default 16
            Path samples per galaxy.
        stdevs : float, default 0.0
            Sigma of the Gaussian noise added to the inputs (in input units).
        n_baselines : int, default 16
            Galaxies drawn from ``x`` as references when ``baselines`` is None.
        engine : {"fused", "captum"}, default "fused"
        rows_per_pass : int, optional
            Rows per forward+backward pass of the fused engine (default: cache-sized on the CPU).
        seed : int or Generator, optional
            References, path points and noise (None: fresh; an int: reproducible for a given ``batch_size``).

        Returns
        -------
        Attribution
        """
        f = _func(self)
        opts = {"n_samples": check_int(n_samples, "n_samples", f, minimum=1),
                "stdevs": _check_positive(stdevs, "stdevs", f, zero=True),
                "n_baselines": check_int(n_baselines, "n_baselines", f, minimum=1),
                "engine": check_choice(engine, "engine", f, ("fused", "captum")),
                "rows_per_pass": _check_rows(rows_per_pass, f)}
        return self._run(x, target, baselines, opts, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        nb = o["n_baselines"]
        if o["engine"] == "captum":
            kw = {"n_samples": o["n_samples"], "stdevs": o["stdevs"]}
            vals, _ = _distribution_call(cattr.GradientShap, model, chunks, baselines, kw, nb, progress, seed,
                                         self.name)
            return MethodOutput(vals)
        dist_seed, chunk_seed = spawn_seeds(seed, 2)
        dist = baseline_distribution(chunks.inputs, baselines, n_baselines=nb, rng=np.random.default_rng(dist_seed))
        vals = fused_gradient_shap(model.forward, chunks.inputs, dist, n_samples=o["n_samples"],
                                   stdevs=(o["stdevs"],) * len(chunks.inputs), batch_size=chunks.batch_size,
                                   rows_per_pass=_pass_rows(o, model, chunks), device=chunks.device,
                                   seed=np.random.default_rng(chunk_seed), progress=progress, dtype=chunks.dtype)
        return MethodOutput(vals)


@register
class SmoothGrad(AttributionMethod):
    """SmoothGrad: a gradient map averaged over noisy copies of every galaxy (a noise tunnel).

    The fused engine (:func:`~interpret.attribution.fused_sampled.fused_smoothgrad`) draws the noisy copies
    on the device in large passes; ``engine="captum"`` runs captum's ``NoiseTunnel``.

    References: Smilkov et al. 2017, arXiv:1706.03825.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> _ = torch.manual_seed(0)
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    >>> sg = ip.SmoothGrad(mlp, progress=False)
    >>> a, b = sg.attribute(x, nt_samples=8, seed=0), sg.attribute(x, nt_samples=8, seed=0)
    >>> a.values.shape, bool(np.array_equal(a.values, b.values))
    ((6, 4), True)
    """

    name = "smoothgrad"
    stochastic = True

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None, nt_samples: int = 16,
                  noise_level: float = 0.1, stdevs: float | tuple[float, ...] | None = None,
                  nt_type: str = "smoothgrad", base: str = "saliency", engine: str = "fused",
                  rows_per_pass: int | None = None, seed: int | np.random.Generator | None = None) -> Attribution:
        """SmoothGrad map of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...), or a tuple of them for multi-input models.
        target : int, str or None
            Output to explain; required for multi-output models.
        baselines : None
            Unused (no reference input); accepted so that every method has one signature.
        nt_samples : int, default 16
            Noisy copies per galaxy.
        noise_level : float, default 0.1
            Noise sigma as a fraction of each input's standard deviation over the sample.
        stdevs : float or tuple of float, optional
            Absolute noise sigma (one per input as a tuple); overrides ``noise_level``.
        nt_type : {"smoothgrad", "smoothgrad_sq", "vargrad"}, default "smoothgrad"
            Mean, mean square or variance of the per-copy maps (captum's definitions).
        base : {"saliency", "input_x_gradient"}, default "saliency"
            The gradient map that is averaged (signed gradients for ``"saliency"``).
        engine : {"fused", "captum"}, default "fused"
        rows_per_pass : int, optional
            Rows per forward+backward pass of the fused engine (default: cache-sized on the CPU).
        seed : int or Generator, optional
            Noise (None: fresh; an int: reproducible for a given ``batch_size``).

        Returns
        -------
        Attribution
        """
        f = _func(self)
        if isinstance(stdevs, (tuple, list)):
            stdevs = tuple(_check_positive(s, "stdevs", f, zero=True) for s in stdevs)
        elif stdevs is not None:
            stdevs = _check_positive(stdevs, "stdevs", f, zero=True)
        opts = {"nt_samples": check_int(nt_samples, "nt_samples", f, minimum=1),
                "noise_level": _check_positive(noise_level, "noise_level", f, zero=True), "stdevs": stdevs,
                "nt_type": check_choice(nt_type, "nt_type", f, NT_TYPES),
                "base": check_choice(base, "base", f, ("saliency", "input_x_gradient")),
                "engine": check_choice(engine, "engine", f, ("fused", "captum")),
                "rows_per_pass": _check_rows(rows_per_pass, f)}
        return self._run(x, target, baselines, opts, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        stdevs = o["stdevs"]
        if stdevs is None:
            stdevs = tuple(o["noise_level"] * float(x.std()) for x in chunks.inputs)
        elif not isinstance(stdevs, tuple):
            stdevs = (stdevs,) * len(chunks.inputs)
        if len(stdevs) != len(chunks.inputs):
            raise ValidationError(f"SmoothGrad.attribute(): 'stdevs' has {len(stdevs)} entries for "
                                  f"{len(chunks.inputs)} inputs; pass one per input or a single number")
        n = o["nt_samples"]
        if o["engine"] == "fused":
            vals = fused_smoothgrad(model.forward, chunks.inputs, stdevs=tuple(stdevs), n_samples=n,
                                    nt_type=o["nt_type"], times_input=o["base"] == "input_x_gradient",
                                    batch_size=chunks.batch_size, rows_per_pass=_pass_rows(o, model, chunks),
                                    device=chunks.device, seed=seed, progress=progress, dtype=chunks.dtype)
            return MethodOutput(vals)
        base = cattr.Saliency(model.module) if o["base"] == "saliency" else cattr.InputXGradient(model.module)
        tunnel = cattr.NoiseTunnel(base)
        extra = {"abs": False} if o["base"] == "saliency" else {}

        def one(sl, gen):
            with B.seeded_globals(B.torch_seed(gen), chunks.device):
                xs = chunks.tensors(chunks.inputs, sl, grad=True)
                res = tunnel.attribute(xs, nt_type=o["nt_type"], nt_samples=n, stdevs=tuple(stdevs), **extra)
                return B.as_tuple(res)

        # seed=None draws fresh noise, but every chunk still needs its own generator
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
        return MethodOutput(B.to_numpy(chunks.run(one, progress=progress, desc=self.name, seed=seed)))
