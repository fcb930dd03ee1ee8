"""Reference network architectures used by :func:`interpret.mock.train.train_reference`.

Every model takes *raw* inputs (image fluxes, AB magnitudes, spectral flux densities) and returns outputs in
physical units: input scaling and output de-standardisation live inside the module as buffers, so a state
dict plus the constructor keyword arguments rebuild the full estimator
(``load_estimator(path, factory="interpret.mock.models:ImageCNN", factory_kwargs=...)``). The buffers are
set from the training split by :meth:`set_normalisation`.

* :class:`PhotometryMLP` - magnitudes (+ extra scalars such as redshift) -> outputs.
* :class:`ImageCNN` - multi-band cutouts (n, B, H, W) -> outputs.
* :class:`ImageCatalogNet` - two inputs, cutouts and magnitudes (the PICZL / Mantis Shrimp design) -> outputs.
* :class:`SpectrumNet` - 1-D convolutional network on spectra (n, L) -> outputs (e.g. W1-W4).

Images and spectra are compressed with ``asinh(x / scale)`` (Lupton et al. 1999) before standardisation, so
faint and bright galaxies share one dynamic range while total flux stays recoverable.

Examples
--------
>>> import torch
>>> from interpret.mock.models import ImageCNN
>>> net = ImageCNN(n_bands=3, image_size=16)
>>> net(torch.zeros(2, 3, 16, 16)).shape
torch.Size([2])
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["PhotometryMLP", "ImageCNN", "ImageCatalogNet", "SpectrumNet", "MODEL_CLASSES"]


def _as_tensor(x: np.ndarray | torch.Tensor | Sequence[float], like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float32)).reshape(like.shape).to(like)


class _Normalised(nn.Module):
    """Base: output de-standardisation buffers ``y_mean``/``y_std`` and a squeeze for one output."""

    def __init__(self, n_outputs: int) -> None:
        super().__init__()
        self.n_outputs = int(n_outputs)
        self.register_buffer("y_mean", torch.zeros(self.n_outputs))
        self.register_buffer("y_std", torch.ones(self.n_outputs))

    def _finish(self, z: torch.Tensor) -> torch.Tensor:
        y = z * self.y_std + self.y_mean
        return y[:, 0] if self.n_outputs == 1 else y

    def standardise_target(self, y: torch.Tensor) -> torch.Tensor:
        """Targets in the network's internal (standardised) units, shape (n, n_outputs)."""
        y = y.reshape(y.shape[0], self.n_outputs)
        return (y - self.y_mean) / self.y_std

    def set_normalisation(self, **stats: np.ndarray) -> None:
        """Copy normalisation statistics (names of buffers -> arrays) into the buffers."""
        for name, value in stats.items():
            buf = getattr(self, name)
            buf.copy_(_as_tensor(value, buf))


def _mlp(n_in: int, hidden: Sequence[int], n_out: int, dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(n_in, width), nn.SiLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class _PhotometryEncoder(nn.Module):
    """Magnitudes -> [standardised magnitudes, adjacent colours, extras] features."""

    def __init__(self, n_mags: int, n_extra: int = 0) -> None:
        super().__init__()
        self.n_mags, self.n_extra = int(n_mags), int(n_extra)
        self.n_features = self.n_mags + max(self.n_mags - 1, 0) + self.n_extra
        self.register_buffer("f_mean", torch.zeros(self.n_features))
        self.register_buffer("f_std", torch.ones(self.n_features))

    def raw_features(self, x: torch.Tensor) -> torch.Tensor:
        mags = x[:, : self.n_mags]
        colours = mags[:, :-1] - mags[:, 1:]
        return torch.cat([mags, colours, x[:, self.n_mags:]], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.raw_features(x) - self.f_mean) / self.f_std


class PhotometryMLP(_Normalised):
    """MLP on magnitudes (colours computed inside) plus optional extra scalar inputs.

    Parameters
    ----------
    n_mags : int
        Number of magnitude columns (first ``n_mags`` input columns, in wavelength order).
    n_extra : int, default 0
        Extra input columns after the magnitudes (e.g. redshift), passed through standardised.
    n_outputs : int, default 1
        Output dimension; one output returns shape (n,).
    hidden : sequence of int, default (128, 128, 64)
        Hidden widths (SiLU activations).
    dropout : float, default 0.0
        Dropout after each hidden layer.
    """

    def __init__(self, n_mags: int, n_extra: int = 0, n_outputs: int = 1,
                 hidden: Sequence[int] = (128, 128, 64), dropout: float = 0.0) -> None:
        super().__init__(n_outputs)
        self.encoder = _PhotometryEncoder(n_mags, n_extra)
        self.net = _mlp(self.encoder.n_features, hidden, n_outputs, dropout)

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised outputs (n, n_outputs), the quantity the training loss compares."""
        return self.net(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs in physical units, (n,) or (n, n_outputs); ``x`` is (n, n_mags + n_extra)."""
        return self._finish(self.raw(x))


class _ImageEncoder(nn.Module):
    """asinh-compressed, standardised cutouts -> pooled convolutional features."""

    def __init__(self, n_bands: int, channels: Sequence[int] = (16, 32, 64)) -> None:
        super().__init__()
        self.register_buffer("scale", torch.ones(n_bands))
        self.register_buffer("x_mean", torch.zeros(n_bands))
        self.register_buffer("x_std", torch.ones(n_bands))
        c1, c2, c3 = channels
        self.conv = nn.Sequential(
            nn.Conv2d(n_bands, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.SiLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.BatchNorm2d(c2), nn.SiLU(),
            nn.Conv2d(c2, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.SiLU(),
            nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.BatchNorm2d(c3), nn.SiLU(),
            nn.Conv2d(c3, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.SiLU(),
        )
        # total-flux channel: per-band asinh of the summed flux, so luminosity is never lost by pooling
        self.register_buffer("tot_mean", torch.zeros(n_bands))
        self.register_buffer("tot_std", torch.ones(n_bands))
        self.n_features = 2 * c3 + n_bands

    def compress(self, x: torch.Tensor) -> torch.Tensor:
        s = self.scale[None, :, None, None]
        return (torch.asinh(x / s) - self.x_mean[None, :, None, None]) / self.x_std[None, :, None, None]

    def total_flux(self, x: torch.Tensor) -> torch.Tensor:
        tot = torch.asinh(x.sum(dim=(2, 3)) / self.scale[None, :])
        return (tot - self.tot_mean) / self.tot_std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(self.compress(x))
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return torch.cat([pooled, self.total_flux(x)], dim=1)


class ImageCNN(_Normalised):
    """Convolutional network on multi-band cutouts (n, B, H, W) -> n_outputs.

    Parameters
    ----------
    n_bands : int
        Image channels (bands, in ``BandSet`` order).
    n_outputs : int, default 1
        Output dimension.
    image_size : int, default 32
        Cutout side in pixels (documentation of the expected input; any size >= 8 works).
    channels : sequence of 3 int, default (16, 32, 64)
        Convolution widths of the three stages (two stride-2 reductions).
    hidden : sequence of int, default (64,)
        Widths of the head MLP.
    """

    def __init__(self, n_bands: int, n_outputs: int = 1, image_size: int = 32,
                 channels: Sequence[int] = (16, 32, 64), hidden: Sequence[int] = (64,)) -> None:
        super().__init__(n_outputs)
        self.image_size = int(image_size)
        self.encoder = _ImageEncoder(n_bands, channels)
        self.head = _mlp(self.encoder.n_features, hidden, n_outputs)

    def raw(self, image: torch.Tensor) -> torch.Tensor:
        """Standardised outputs (n, n_outputs)."""
        return self.head(self.encoder(image))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Outputs in physical units from cutouts (n, B, H, W) in linear flux units."""
        return self._finish(self.raw(image))


class ImageCatalogNet(_Normalised):
    """Two-input network: cutouts (n, B, H, W) and catalogue magnitudes (n, M) -> n_outputs.

    The image branch is the :class:`ImageCNN` encoder; the catalogue branch is the
    :class:`PhotometryMLP` encoder (magnitudes + colours); their features are concatenated before the head.

    Parameters
    ----------
    n_bands : int
        Image channels.
    n_mags : int
        Catalogue magnitude columns.
    n_outputs : int, default 1
        Output dimension.
    image_size : int, default 32
        Cutout side in pixels.
    channels : sequence of 3 int, default (16, 32, 64)
        Image-branch convolution widths.
    hidden : sequence of int, default (128, 64)
        Widths of the joint head.
    """

    def __init__(self, n_bands: int, n_mags: int, n_outputs: int = 1, image_size: int = 32,
                 channels: Sequence[int] = (16, 32, 64), hidden: Sequence[int] = (128, 64)) -> None:
        super().__init__(n_outputs)
        self.image_size = int(image_size)
        self.encoder = _ImageEncoder(n_bands, channels)
        self.catalog = _PhotometryEncoder(n_mags)
        self.catalog_net = _mlp(self.catalog.n_features, (64,), 64)
        self.head = _mlp(self.encoder.n_features + 64, hidden, n_outputs)

    def raw(self, image: torch.Tensor, magnitudes: torch.Tensor) -> torch.Tensor:
        """Standardised outputs (n, n_outputs)."""
        cat = nn.functional.silu(self.catalog_net(self.catalog(magnitudes)))
        return self.head(torch.cat([self.encoder(image), cat], dim=1))

    def forward(self, image: torch.Tensor, magnitudes: torch.Tensor) -> torch.Tensor:
        """Outputs in physical units from cutouts (n, B, H, W) and AB magnitudes (n, M)."""
        return self._finish(self.raw(image, magnitudes))


class SpectrumNet(_Normalised):
    """1-D convolutional network on spectra (n, L) -> n_outputs (e.g. W1-W4 magnitudes).

    Parameters
    ----------
    n_wave : int
        Spectral pixels L.
    n_outputs : int, default 4
        Output dimension.
    channels : sequence of int, default (8, 16, 32, 64)
        Widths of the stride-2 convolution stages (kernel 7).
    n_pool : int, default 16
        Length the convolved spectrum is pooled to before the head.
    hidden : sequence of int, default (256, 64)
        Widths of the head MLP.
    """

    def __init__(self, n_wave: int, n_outputs: int = 4, channels: Sequence[int] = (8, 16, 32, 64),
                 n_pool: int = 16, hidden: Sequence[int] = (256, 64)) -> None:
        super().__init__(n_outputs)
        self.n_wave = int(n_wave)
        self.register_buffer("scale", torch.ones(()))
        self.register_buffer("x_mean", torch.zeros(self.n_wave))
        self.register_buffer("x_std", torch.ones(self.n_wave))
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [nn.Conv1d(c_in, c, 7, stride=2, padding=3), nn.BatchNorm1d(c), nn.SiLU()]
            c_in = c
        self.conv = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(n_pool))
        # a global-level channel: mean asinh flux carries the distance/luminosity the shape cannot
        self.head = _mlp(c_in * n_pool + 1, hidden, n_outputs)

    def compress(self, spectra: torch.Tensor) -> torch.Tensor:
        return (torch.asinh(spectra / self.scale) - self.x_mean) / self.x_std

    def raw(self, spectra: torch.Tensor) -> torch.Tensor:
        """Standardised outputs (n, n_outputs)."""
        z = self.compress(spectra)
        h = self.conv(z[:, None, :]).flatten(1)
        return self.head(torch.cat([h, z.mean(dim=1, keepdim=True)], dim=1))

    def forward(self, spectra: torch.Tensor) -> torch.Tensor:
        """Outputs in physical units from spectra (n, L) in flux-density units."""
        return self._finish(self.raw(spectra))


#: Import strings of the reference architectures, by class name (for ``load_estimator(factory=...)``).
MODEL_CLASSES: dict[str, str] = {
    cls.__name__: f"{__name__}:{cls.__name__}" for cls in (PhotometryMLP, ImageCNN, ImageCatalogNet, SpectrumNet)
}
