"""Attribution methods: one small class per method, one registry, one ``compute`` signature.

Every method is called through :func:`interpret.attribution.attribute` as
``attribute(estimator, x, method=NAME, *, target=None, baselines=None, **options)`` and returns the same
:class:`~interpret.attribution.Attribution`. Gradient methods need a differentiable torch module
(``estimator.module``); ``occlusion`` and ``feature_ablation`` (in :mod:`.perturbation`) also work with
sklearn models or plain callables through ``estimator.predict``.

References: Simonyan et al. 2013 (saliency, arXiv:1312.6034); Shrikumar et al. 2016/2017 (input x gradient,
DeepLIFT, arXiv:1605.01713, arXiv:1704.02685); Sundararajan et al. 2017 (IG, arXiv:1703.01365); Lundberg &
Lee 2017 (SHAP, arXiv:1705.07874); Smilkov et al. 2017 (SmoothGrad, arXiv:1706.03825).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from captum import attr as cattr

from .._guards import check_memory
from .._memory import cpu_pass_rows
from .._validation import check_choice, check_int, spawn_seeds
from ..exceptions import ValidationError
from . import _batching as B
from .baselines import baseline_distribution, make_baselines
from .fused_ig import RULES, captum_method_name, check_steps, fused_integrated_gradients
from .fused_sampled import fused_gradient_shap, fused_smoothgrad

__all__ = ["METHODS", "AttributionMethod", "MethodOutput", "register", "IntegratedGradients", "Saliency",
           "InputXGradient", "DeepLift", "DeepLiftShap", "GradientShap", "SmoothGrad"]

METHODS: dict[str, type[AttributionMethod]] = {}


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
    """Base class: the constructor stores and validates options; :meth:`compute` does the work."""

    name: ClassVar[str] = ""
    needs_module: ClassVar[bool] = True   # gradients (or DeepLift rules) need a torch module
    stochastic: ClassVar[bool] = False
    options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            valid = ", ".join(self.options) or "none"
            raise ValidationError(f"attribute(): method {self.name!r} got unknown option(s) {unknown}; "
                                  f"its options are {valid}")
        self.opts = options

    def params(self) -> dict:
        """JSON-able record of the options used."""
        return {k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v))
                for k, v in self.opts.items()}

    def compute(self, model: Any, chunks: B.Chunks, baselines: Any, *, progress: bool | None,
                seed: Any) -> MethodOutput:  # pragma: no cover - abstract
        raise NotImplementedError


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
    """Integrated Gradients on the fused engine (``engine="captum"`` runs captum's implementation).

    Options: ``n_steps`` (int or "auto", default 50), ``rule`` (default "gauss_legendre"), ``engine``
    ("fused" or "captum"), ``rows_per_pass`` (cap on interpolated rows per pass), ``rtol``/``atol``/
    ``max_steps`` (for ``n_steps="auto"``), ``precision`` ("float32", "bfloat16", "float16": autocast
    mixed precision on the fused engine; ``amp=True`` means "bfloat16"), ``working_set`` (bytes held
    besides inputs and outputs on the CPU, default :data:`interpret._memory.WORKING_SET_BYTES` = 1 GiB: caps
    the rows per pass and the galaxies per chunk; results are streamed into the output arrays).
    """

    name = "integrated_gradients"
    options = ("n_steps", "rule", "engine", "rows_per_pass", "rtol", "atol", "max_steps", "precision", "amp",
               "working_set")

    def compute(self, model, chunks, baselines, *, progress, seed):
        o = {"n_steps": 50, "rule": "gauss_legendre", "engine": "fused", **self.opts}
        check_choice(o["rule"], "rule", "attribute", RULES)
        check_choice(o["engine"], "engine", "attribute", ("fused", "captum"))
        base = make_baselines(chunks.inputs, baselines)
        precision = o.get("precision") or ("bfloat16" if o.get("amp") else None)
        if precision not in (None, "float32") and o["engine"] != "fused":
            raise ValidationError("attribute(): 'precision'/'amp' (mixed precision) needs engine='fused'")
        if o["engine"] == "fused":
            rows, galaxies = _ig_working_set(o, model, chunks)
            r = fused_integrated_gradients(
                model.forward, chunks.inputs, base, n_steps=o["n_steps"], rule=o["rule"],
                batch_size=galaxies, rows_per_pass=rows, device=chunks.device,
                rtol=o.get("rtol", 1e-3), atol=o.get("atol", 1e-6), max_steps=o.get("max_steps", 256),
                progress=progress, precision=precision)
            return MethodOutput(r.values, r.output, r.baseline_output, r.delta, r.n_steps)
        n = check_steps(check_int(o["n_steps"], "n_steps", "attribute", minimum=1))
        if o["rule"] == "gauss_legendre":     # captum builds its nodes from an n_steps x n_steps matrix
            check_memory("attribute", f"n_steps={n} Gauss-Legendre nodes in captum (an n_steps^2 matrix)",
                         24.0 * n * n, "'n_steps'", hint="or use engine='fused', which needs no such matrix")
        kw = {"n_steps": n, "method": captum_method_name(o["rule"]),
              "internal_batch_size": o.get("rows_per_pass")}
        vals, delta = _captum_per_chunk(lambda m: cattr.IntegratedGradients(m), model, chunks, base, kw,
                                        progress, "IG (captum)", delta=True)
        fb = B.forward_outputs(model.forward, chunks, base)
        return MethodOutput(vals, None, fb, delta, np.full(len(fb), n))


@register
class Saliency(AttributionMethod):
    """Gradient of the output with respect to the input; ``abs`` (default True) takes its magnitude."""

    name = "saliency"
    options = ("abs",)

    def compute(self, model, chunks, baselines, *, progress, seed):
        kw = {"abs": bool(self.opts.get("abs", True))}
        return MethodOutput(_captum_per_chunk(cattr.Saliency, model, chunks, None, kw, progress, self.name)[0])


@register
class InputXGradient(AttributionMethod):
    """Input times gradient (equals IG with a zero baseline for a linear model)."""

    name = "input_x_gradient"

    def compute(self, model, chunks, baselines, *, progress, seed):
        return MethodOutput(_captum_per_chunk(cattr.InputXGradient, model, chunks, None, {}, progress,
                                              self.name)[0])


@register
class DeepLift(AttributionMethod):
    """DeepLIFT rescale rule relative to a baseline; reports its completeness delta.

    Needs a module whose non-linearities are distinct ``nn.Module`` instances (captum's requirement).
    """

    name = "deeplift"
    options = ("multiply_by_inputs",)

    def compute(self, model, chunks, baselines, *, progress, seed):
        base = make_baselines(chunks.inputs, baselines)
        mbi = bool(self.opts.get("multiply_by_inputs", True))
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
    from .._memory import WORKING_SET_BYTES

    rows = _pass_rows(opts, model, chunks)
    if chunks.device.type != "cpu":
        return rows, chunks.batch_size
    ws = check_int(opts.get("working_set", WORKING_SET_BYTES), "working_set", "attribute", minimum=1)
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
    """DeepLIFT averaged over a distribution of baselines (default: ``n_baselines`` random galaxies)."""

    name = "deeplift_shap"
    options = ("n_baselines",)
    stochastic = True

    def compute(self, model, chunks, baselines, *, progress, seed):
        nb = check_int(self.opts.get("n_baselines", 16), "n_baselines", "attribute", minimum=1)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Setting forward, backward hooks", category=UserWarning)
            vals, _ = _distribution_call(cattr.DeepLiftShap, model, chunks, baselines, {}, nb, progress, seed,
                                         self.name)
        return MethodOutput(vals)


@register
class GradientShap(AttributionMethod):
    """Expected gradients: IG-like path samples between random baselines and noisy inputs.

    Options: ``n_samples`` (default 16), ``stdevs`` (input noise, default 0.0), ``n_baselines`` (16),
    ``engine`` ("fused", the default, :func:`~interpret.attribution.fused_sampled.fused_gradient_shap`; or
    "captum"), ``rows_per_pass``.
    """

    name = "gradient_shap"
    options = ("n_samples", "stdevs", "n_baselines", "engine", "rows_per_pass")
    stochastic = True

    def compute(self, model, chunks, baselines, *, progress, seed):
        nb = check_int(self.opts.get("n_baselines", 16), "n_baselines", "attribute", minimum=1)
        kw = {"n_samples": check_int(self.opts.get("n_samples", 16), "n_samples", "attribute", minimum=1),
              "stdevs": float(self.opts.get("stdevs", 0.0))}
        engine = self.opts.get("engine", "fused")
        check_choice(engine, "engine", "attribute", ("fused", "captum"))
        if engine == "captum":
            vals, _ = _distribution_call(cattr.GradientShap, model, chunks, baselines, kw, nb, progress, seed,
                                         self.name)
            return MethodOutput(vals)
        dist_seed, chunk_seed = spawn_seeds(seed, 2)
        dist = baseline_distribution(chunks.inputs, baselines, n_baselines=nb, rng=np.random.default_rng(dist_seed))
        vals = fused_gradient_shap(model.forward, chunks.inputs, dist, n_samples=kw["n_samples"],
                                   stdevs=(kw["stdevs"],) * len(chunks.inputs), batch_size=chunks.batch_size,
                                   rows_per_pass=_pass_rows(self.opts, model, chunks), device=chunks.device,
                                   seed=np.random.default_rng(chunk_seed), progress=progress)
        return MethodOutput(vals)


@register
class SmoothGrad(AttributionMethod):
    """SmoothGrad noise tunnel around a gradient method.

    Options: ``nt_samples`` (default 16), ``noise_level`` (noise sigma as a fraction of each input's
    standard deviation over the sample, default 0.1; ``stdevs`` gives absolute sigmas instead),
    ``nt_type`` ("smoothgrad", "smoothgrad_sq", "vargrad"), ``base`` ("saliency" or "input_x_gradient"),
    ``engine`` ("fused", the default, :func:`~interpret.attribution.fused_sampled.fused_smoothgrad`; or
    "captum", its ``NoiseTunnel``), ``rows_per_pass``.
    """

    name = "smoothgrad"
    options = ("nt_samples", "noise_level", "stdevs", "nt_type", "base", "engine", "rows_per_pass")
    stochastic = True

    def compute(self, model, chunks, baselines, *, progress, seed):
        o = {"nt_samples": 16, "noise_level": 0.1, "nt_type": "smoothgrad", "base": "saliency", **self.opts}
        check_choice(o["nt_type"], "nt_type", "attribute", ("smoothgrad", "smoothgrad_sq", "vargrad"))
        check_choice(o["base"], "base", "attribute", ("saliency", "input_x_gradient"))
        stdevs = o.get("stdevs")
        if stdevs is None:
            stdevs = tuple(float(o["noise_level"]) * float(x.std()) for x in chunks.inputs)
        elif np.isscalar(stdevs):
            stdevs = (float(stdevs),) * len(chunks.inputs)
        n = check_int(o["nt_samples"], "nt_samples", "attribute", minimum=1)
        check_choice(o.get("engine", "fused"), "engine", "attribute", ("fused", "captum"))
        if o.get("engine", "fused") == "fused":
            vals = fused_smoothgrad(model.forward, chunks.inputs, stdevs=tuple(stdevs), n_samples=n,
                                    nt_type=o["nt_type"], times_input=o["base"] == "input_x_gradient",
                                    batch_size=chunks.batch_size, rows_per_pass=_pass_rows(self.opts, model, chunks),
                                    device=chunks.device, seed=seed, progress=progress)
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
