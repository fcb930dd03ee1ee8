"""Contract over every attribution method class: one bound model, typed keywords, same answer as attribute()."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import interpret as ip
from interpret.attribution import METHODS, Attribution, AttributionMethod, attribute
from interpret.exceptions import ValidationError

torch.set_num_threads(1)

CLASSES = sorted(METHODS.values(), key=lambda c: c.name)
# small option values so every call takes milliseconds; also what makes deeplift_shap depend on the seed
FAST = {"integrated_gradients": {"n_steps": 8}, "smoothgrad": {"nt_samples": 4}, "gradient_shap": {"n_samples": 4},
        "deeplift_shap": {"n_baselines": 3}}


def _mlp(n_out: int = 1) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, n_out))


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)


def test_every_registered_method_is_a_public_class():
    expected = {"IntegratedGradients", "Saliency", "InputXGradient", "DeepLift", "DeepLiftShap", "GradientShap",
                "SmoothGrad", "Occlusion", "FeatureAblation"}
    assert {c.__name__ for c in CLASSES} == expected
    for cls in CLASSES:
        assert issubclass(cls, AttributionMethod)
        assert getattr(ip, cls.__name__) is cls is getattr(ip.attribution, cls.__name__)
        assert cls.__name__ in ip.__all__ and cls.__name__ in ip.attribution.__all__


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_signature_is_typed_with_explicit_defaults(cls):
    params = inspect.signature(cls.attribute).parameters
    assert list(params)[:2] == ["self", "x"]
    assert {"target", "baselines", "seed"} <= set(params)
    assert params["seed"].default is None and params["target"].default is None
    for name, p in list(params.items())[2:]:
        assert p.kind is inspect.Parameter.KEYWORD_ONLY, f"{cls.__name__}.attribute: {name} is keyword-only"
        assert p.default is not inspect.Parameter.empty, f"{cls.__name__}.attribute: {name} needs a default"
        assert p.annotation is not inspect.Parameter.empty
        assert f"{name} :" in cls.attribute.__doc__ or f", {name} :" in cls.attribute.__doc__ \
            or f"{name}, " in cls.attribute.__doc__, f"{cls.__name__}.attribute: document {name}"
    init = inspect.signature(cls.__init__).parameters
    assert init["device"].default is None and init["progress"].default is None and init["batch_size"].default == 64
    assert cls.option_names() == tuple(n for n in params if n not in ("self", "x", "target", "baselines", "seed"))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_contract(cls, x):
    """Same result as attribute(method=...), shape in = shape out, inputs untouched, seeds honoured."""
    model, before, opts = _mlp(), x.copy(), FAST.get(cls.name, {})
    bound = cls(model, batch_size=4, progress=False)
    a = bound.attribute(x, seed=3, **opts)
    b = attribute(model, x, method=cls.name, batch_size=4, seed=3, progress=False, **opts)
    assert isinstance(a, Attribution) and a.method == cls.name
    assert a.values.shape == x.shape and a.values.dtype == x.dtype and np.isfinite(a.values).all()
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(bound.attribute(x, seed=3, **opts).values, a.values)   # bound once, reused
    if cls.stochastic:
        fresh = [bound.attribute(x, seed=None, **opts).values for _ in range(3)]
        assert any(not np.array_equal(fresh[0], f) for f in fresh[1:]), "seed=None must draw fresh numbers"
        assert not np.array_equal(bound.attribute(x, seed=4, **opts).values, a.values)
    else:
        np.testing.assert_array_equal(bound.attribute(x, seed=None, **opts).values, a.values)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_unknown_keyword_is_refused_naming_the_accepted_ones(cls, x):
    accepted = cls.option_names()
    with pytest.raises(ValidationError, match="unknown option") as err:
        attribute(_mlp(), x, method=cls.name, progress=False, not_an_option=1)
    assert "not_an_option" in str(err.value) and all(name in str(err.value) for name in accepted)
    with pytest.raises(TypeError, match="not_an_option"):
        cls(_mlp(), progress=False).attribute(x, not_an_option=1)


def test_one_bound_model_serves_several_targets_and_inputs(x):
    model = _mlp(n_out=2)
    ig = ip.IntegratedGradients(model, progress=False)
    for target in (0, 1):
        np.testing.assert_array_equal(ig.attribute(x[:5], target=target, n_steps=8).values,
                                      attribute(model, x[:5], target=target, n_steps=8, progress=False).values)
    assert ig.attribute(x[5:], target=1, n_steps=8).values.shape == (3, 5)
    with pytest.raises(ValidationError, match="pass 'target'"):
        ig.attribute(x, n_steps=8)


def test_options_are_validated_at_the_boundary(x):
    ig = ip.IntegratedGradients(_mlp(), progress=False)
    with pytest.raises(ValidationError, match=r"IntegratedGradients.attribute\(\): 'n_steps' must be >= 1; got 0"):
        ig.attribute(x, n_steps=0)
    with pytest.raises(ValidationError, match=r"unknown rule 'simpson'; valid values are 'gauss_legendre'"):
        ig.attribute(x, rule="simpson")
    with pytest.raises(ValidationError, match="'rtol' must be a non-negative number"):
        ig.attribute(x, rtol=-1.0)
    with pytest.raises(ValidationError, match=r"SmoothGrad.attribute\(\): 'nt_samples' must be an integer"):
        ip.SmoothGrad(_mlp(), progress=False).attribute(x, nt_samples=2.5)
    with pytest.raises(ValidationError, match="'abs' must be True or False"):
        ip.Saliency(_mlp(), progress=False).attribute(x, abs="yes")
    with pytest.raises(ValidationError, match="'window'"):
        ip.Occlusion(_mlp(), progress=False).attribute(x, window=(1, 2))
    with pytest.raises(ValidationError, match=r"IntegratedGradients\(\): 'batch_size' must be >= 1"):
        ip.IntegratedGradients(_mlp(), batch_size=0)


def test_gradient_methods_refuse_a_model_without_module_when_bound(x):
    from sklearn.linear_model import LinearRegression

    reg = LinearRegression().fit(x, x[:, 0])
    with pytest.raises(ValidationError, match="differentiable torch module"):
        ip.IntegratedGradients(reg)
    a = ip.FeatureAblation(reg, progress=False).attribute(x, baselines="zeros")
    np.testing.assert_allclose(a.values[:, 0], x[:, 0], atol=1e-5)   # y = x0: ablating x0 to 0 removes x0


def test_reprs_are_short():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 1))
    images = np.ones((40, 3, 16, 16), np.float32)
    mask = np.repeat(np.arange(3), 256).reshape(3, 16, 16)
    a = ip.FeatureAblation(model, progress=False).attribute(images, feature_mask=mask)
    assert len(repr(a)) < 400 and "\n" not in repr(a), repr(a)
    b = ip.IntegratedGradients(model, progress=False).attribute(images, n_steps=4)
    assert len(repr(b)) < 400 and "\n" not in repr(b), repr(b)
    assert repr(ip.IntegratedGradients(model)) == "IntegratedGradients(Sequential, device='cpu', batch_size=64)"


def test_renamed_amp_option_warns(x):
    with pytest.warns(FutureWarning, match="'amp' is deprecated"):
        a = attribute(_mlp(), x, n_steps=4, amp=True, progress=False)
    assert a.params["precision"] == "bfloat16"
