"""Per-image similarity of two models' explanation maps, and the model-by-model matrix.

Two models explain the same ``N`` images; each gives maps of shape ``[N, H, W]``
(any trailing shape works: every map is flattened).  A per-image metric turns
the pair into ``N`` similarities; :func:`dissimilarity` folds them into one
distance that is small only when the similarities are both high *and*
consistent across images:

    d = sqrt((1 - mean(s))**2 + std(s)**2)        (population std, ddof=0)

:func:`similarity_matrix` does this for every pair of models, optionally only
on the images where both models predict the same class.

Inputs may be NumPy arrays or torch tensors (any object with ``.detach()``);
torch is never imported here.  Results are NumPy ``float64``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Normalize = Literal["unit", "max", "minmax"]
PairMetric = Callable[[Any, Any], np.ndarray]
_NORMALIZE = ("unit", "max", "minmax", None)


def to_numpy(x: Any) -> np.ndarray:
    """NumPy view of an array-like or torch tensor (detached, on CPU); torch is not imported.

    Examples
    --------
    >>> to_numpy([1, 2]).shape
    (2,)
    """
    if hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach().cpu()
        try:
            return x.numpy()
        except TypeError:  # bfloat16 and other dtypes NumPy lacks
            return x.float().numpy()
    return np.asarray(x)


def as_maps(maps: Any, *, name: str = "maps") -> np.ndarray:
    """Explanation maps as a finite ``float64`` array of shape ``[N, P]``.

    Parameters
    ----------
    maps:
        Array or torch tensor of shape ``[N, ...]`` (usually ``[N, H, W]``); the
        first axis indexes images and the rest is flattened.
    name:
        Used in error messages.

    Returns
    -------
    numpy.ndarray
        ``[N, P]`` copy-free view where possible.

    Examples
    --------
    >>> as_maps(np.zeros((2, 3, 4))).shape
    (2, 12)
    """
    arr = to_numpy(maps)
    if arr.ndim < 2:
        raise ValueError(f"{name}: expected [N, H, W] maps, got shape {arr.shape}")
    arr = arr.reshape(arr.shape[0], -1).astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: maps contain NaN or infinite values")
    return arr


def normalize_maps(maps: Any, *, normalize: Normalize | None) -> np.ndarray:
    """Rescale each flattened map independently; a zero map stays zero.

    Parameters
    ----------
    maps:
        ``[N, ...]`` maps (array or tensor).
    normalize:
        ``"unit"``: divide by the L2 norm.  ``"max"``: divide by the largest
        absolute value (signs kept).  ``"minmax"``: map to ``[0, 1]`` with
        ``(x - min) / (max - min)``; a constant map becomes all zeros.
        ``None``: unchanged.

    Returns
    -------
    numpy.ndarray
        ``[N, P]`` normalised maps.

    Examples
    --------
    >>> normalize_maps(np.array([[3.0, 4.0]]), normalize="unit")
    array([[0.6, 0.8]])
    """
    return _normalize(as_maps(maps), normalize)


def cosine_similarity(a: Any, b: Any, *, normalize: Normalize | None = None) -> np.ndarray:
    """Cosine of the angle between the two models' flattened maps, per image.

    Parameters
    ----------
    a, b:
        ``[N, H, W]`` maps of the same images from two models.
    normalize:
        Applied to each map first (see :func:`normalize_maps`).  ``"unit"`` and
        ``"max"`` are positive rescalings and leave the cosine unchanged;
        ``"minmax"`` removes each map's offset and does change it.

    Returns
    -------
    numpy.ndarray
        ``[N]`` values in ``[-1, 1]``.  Edge cases, never NaN: both maps zero
        -> ``1.0`` (identical); exactly one map zero -> ``0.0``.

    Examples
    --------
    >>> cosine_similarity(np.ones((1, 2, 2)), np.ones((1, 2, 2)))
    array([1.])
    """
    x, y = _pair(a, b)
    # Scaling by the max first keeps the norms away from under/overflow.
    x = _normalize(_normalize(x, normalize), "max")
    y = _normalize(_normalize(y, normalize), "max")
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    zx, zy = nx == 0, ny == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("ij,ij->i", x, y) / (nx * ny)
    cos = np.where(zx | zy, np.where(zx & zy, 1.0, 0.0), cos)
    return np.clip(cos, -1.0, 1.0)


def rbf_similarity(a: Any, b: Any, sigma: float = 1.0, *, normalize: Normalize | None = "unit") -> np.ndarray:
    """Gaussian (RBF) kernel ``exp(-||a - b||^2 / (2 sigma^2))`` per image.

    Parameters
    ----------
    a, b:
        ``[N, H, W]`` maps of the same images from two models.
    sigma:
        Kernel width, in the units of the normalised maps.
    normalize:
        Applied to each map first (see :func:`normalize_maps`).  The default
        ``"unit"`` makes ``||a - b||^2`` lie in ``[0, 4]`` whatever the map's
        scale or resolution, so one ``sigma`` suits every explainer; for
        non-zero maps it equals ``exp(-(1 - cos) / sigma^2)``.  Use ``"max"``
        or ``"minmax"`` to let the shape of the value distribution count, or
        ``None`` to compare raw values.

    Returns
    -------
    numpy.ndarray
        ``[N]`` values in ``(0, 1]``; identical maps (including two zero maps)
        give ``1.0``.  A zero map against a unit map gives ``exp(-1 / (2 sigma^2))``.

    Examples
    --------
    >>> rbf_similarity(np.zeros((1, 1, 2)), np.array([[[3.0, 4.0]]]), sigma=5.0, normalize=None)
    array([0.60653066])
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    x, y = _pair(a, b)
    x, y = _normalize(x, normalize), _normalize(y, normalize)
    sq = np.einsum("ij,ij->i", x - y, x - y)
    return np.exp(-sq / (2.0 * sigma**2))


def dissimilarity(sims: Any) -> float:
    """Distance from per-image similarities: ``sqrt((1 - mean)^2 + std^2)``.

    Parameters
    ----------
    sims:
        ``[N]`` per-image similarities (1 means identical).

    Returns
    -------
    float
        ``0`` only when every similarity is 1.  The std is the population
        standard deviation (``ddof=0``), so one image gives ``|1 - s|``.  An
        empty input gives ``1.0``, the value for a single similarity of 0
        (no evidence of agreement), never NaN.

    Examples
    --------
    >>> round(dissimilarity([0.6, 1.0]), 4)  # mean 0.8, std 0.2
    0.2828
    """
    s = to_numpy(sims).astype(np.float64, copy=False).ravel()
    if s.size == 0:
        return 1.0
    if not np.all(np.isfinite(s)):
        raise ValueError("similarities contain NaN or infinite values")
    return float(np.hypot(1.0 - s.mean(), s.std()))


@dataclass(frozen=True, eq=False)
class SimilarityMatrix:
    """Model-by-model comparison; every array is ``[M, M]`` in ``names`` order.

    The arrays are read-only, and instances compare by identity.

    Attributes
    ----------
    names:
        Model names, in the order of the input mapping.
    similarity:
        Mean per-image similarity over the images each pair was compared on.
    std:
        Population std of those similarities.
    dissimilarity:
        ``sqrt((1 - similarity)^2 + std^2)``, zero diagonal, symmetric.
    counts:
        Number of images each pair was compared on.
    """

    names: tuple[str, ...]
    similarity: np.ndarray
    std: np.ndarray
    dissimilarity: np.ndarray
    counts: np.ndarray

    def index(self, name: str) -> int:
        """Row/column of model ``name``."""
        return self.names.index(name)


def similarity_matrix(
    maps: Mapping[str, Any],
    *,
    metric: Literal["cosine", "rbf"] | PairMetric = "cosine",
    same_prediction: Mapping[str, Any] | None = None,
    fill: float = 0.0,
) -> SimilarityMatrix:
    """Compare every pair of models' explanations of the same images.

    Parameters
    ----------
    maps:
        Model name -> ``[N, H, W]`` maps; every model explains the same ``N`` images.
    metric:
        ``"cosine"`` (:func:`cosine_similarity`), ``"rbf"`` (:func:`rbf_similarity`
        with its defaults) or any callable ``(a, b) -> [N]`` per-image
        similarity, e.g. ``functools.partial(cohens_kappa, top_k=0.1)``.  It
        is called once per pair on all ``N`` images (``[N, H * W]`` arrays),
        so each image's value must depend on that image alone.
    same_prediction:
        Optional model name -> ``[N]`` predicted classes.  When given, a pair
        is compared only on the images where both models predict the same class.
    fill:
        Mean similarity given to a pair with no images left (count 0); its std
        is 0 and its dissimilarity ``|1 - fill|``.  The default 0 reads as "no
        evidence of agreement" and gives dissimilarity 1.

    Returns
    -------
    SimilarityMatrix
        The diagonal is fixed at similarity 1, std 0, dissimilarity 0 and
        count ``N``: a model is compared with itself on every image.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> maps = {"a": rng.random((4, 8, 8)), "b": rng.random((4, 8, 8))}
    >>> result = similarity_matrix(maps, metric="cosine")
    >>> result.similarity.shape, int(result.counts[0, 1])
    ((2, 2), 4)
    """
    names = tuple(maps)
    if not names:
        raise ValueError("maps is empty: need at least one model")
    pair_metric = _resolve_metric(metric)
    arrays = [as_maps(maps[n], name=n) for n in names]
    n_images = arrays[0].shape[0]
    for name, arr in zip(names, arrays):
        if arr.shape != arrays[0].shape:
            raise ValueError(f"{name}: maps of shape {arr.shape} differ from {names[0]}: {arrays[0].shape}")
    preds = _predictions(same_prediction, names, n_images)

    def pair_sims() -> Iterator[tuple[int, int, np.ndarray]]:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                sims = np.asarray(pair_metric(arrays[i], arrays[j]), dtype=np.float64).ravel()
                if sims.shape != (n_images,):
                    raise ValueError(f"metric returned shape {sims.shape} for {n_images} images")
                yield i, j, sims if preds is None else sims[preds[i] == preds[j]]

    return _assemble(names, n_images, pair_sims(), fill)


def _assemble(
    names: tuple[str, ...], n_images: int, pair_sims: Iterable[tuple[int, int, np.ndarray]], fill: float
) -> SimilarityMatrix:
    """The symmetric matrices from each pair's per-image similarities (``fill`` where a pair has none)."""
    m = len(names)
    sim, std, dis = np.eye(m), np.zeros((m, m)), np.zeros((m, m))
    counts = np.full((m, m), n_images, dtype=np.int64)
    for i, j, sims in pair_sims:
        mean, sd = (float(sims.mean()), float(sims.std())) if sims.size else (float(fill), 0.0)
        sim[i, j] = sim[j, i] = mean
        std[i, j] = std[j, i] = sd
        dis[i, j] = dis[j, i] = float(np.hypot(1.0 - mean, sd))
        counts[i, j] = counts[j, i] = sims.size
    for arr in (sim, std, dis, counts):
        arr.setflags(write=False)
    return SimilarityMatrix(names=names, similarity=sim, std=std, dissimilarity=dis, counts=counts)


def _pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = as_maps(a, name="a"), as_maps(b, name="b")
    if x.shape != y.shape:
        raise ValueError(f"maps differ in shape: a {x.shape} vs b {y.shape} (after flattening)")
    return x, y


def _normalize(x: np.ndarray, normalize: Normalize | None) -> np.ndarray:
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {_NORMALIZE}, got {normalize!r}")
    if normalize is None:
        return x
    if normalize == "minmax":
        x = x - x.min(axis=1, keepdims=True)
    x = _divide_rows(x, np.abs(x).max(axis=1, keepdims=True))
    if normalize == "unit":
        x = _divide_rows(x, np.linalg.norm(x, axis=1, keepdims=True))
    return x


def _divide_rows(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.divide(x, scale, out=np.zeros_like(x), where=scale > 0)


def _resolve_metric(metric: str | PairMetric) -> PairMetric:
    if callable(metric):
        return metric
    if metric == "cosine":
        return cosine_similarity
    if metric == "rbf":
        return rbf_similarity
    raise ValueError(f"metric must be 'cosine', 'rbf' or a callable, got {metric!r}")


def _predictions(
    same_prediction: Mapping[str, Any] | None, names: tuple[str, ...], n_images: int
) -> list[np.ndarray] | None:
    if same_prediction is None:
        return None
    missing = [n for n in names if n not in same_prediction]
    if missing:
        raise ValueError(f"same_prediction lacks models: {missing}")
    preds = [to_numpy(same_prediction[n]).ravel() for n in names]
    for name, p in zip(names, preds):
        if p.shape != (n_images,):
            raise ValueError(f"{name}: {p.shape[0]} predictions for {n_images} images")
    return preds


def similarity_from_values(
    names: tuple[str, ...],
    pairs: tuple[tuple[int, int], ...],
    values: np.ndarray,
    mask: np.ndarray,
    *,
    fill: float = 0.0,
) -> SimilarityMatrix:
    """:func:`similarity_matrix` from per-image pair similarities already computed (``[N, P]`` values and mask).

    What :func:`harness.compare.bootstrap.pair_values` gives; the result
    equals ``similarity_matrix`` on the same maps, metric and predictions.
    """
    sims = ((i, j, values[mask[:, p], p]) for p, (i, j) in enumerate(pairs))
    return _assemble(names, values.shape[0], sims, fill)
