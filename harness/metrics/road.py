"""ROAD (Rong et al. 2022): remove the most relevant pixels by noisy linear imputation.

Quantus 0.6.0's ``ROAD`` cannot score RGB images: it orders the
attributions broadcast to C*H*W features but uses those feature indices as
*pixel* indices of ``noisy_linear_imputation`` (an ``IndexError`` with
1-channel attributions, wrong pixels with 3-channel ones).  The harness
orders the **pixels** by the 2-D map (descending), as the ROAD paper does,
and imputes all channels of the top ``p`` % of pixels.  Everything else is
Quantus's: the imputation's weights and equations, ``noise * randn`` added
to the imputed values (global-RNG order: percentage, then sample), the
class test ``argmax == y``.  :func:`road_reference` runs that definition
through Quantus's own ``noisy_linear_imputation`` one sample at a time (the
equality reference); :func:`road` builds the sparse system with vectorised
NumPy instead of ``lil_matrix`` item assignment, which is where Quantus
spends its time, runs the sparse solves on torch's thread count (they do
not touch the RNG; the noise is drawn afterwards in Quantus's order), and
classifies all percentages in large batches.

Score per image: the fraction of percentages at which the class is still
predicted (the MoRF curve's mean; lower is better).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from scipy.sparse import csc_matrix
from scipy.sparse.linalg import spsolve

from .forward import predicted
from .inputs import MetricInputs, quantus_prepare
from .registry import MetricCfg, register_metric

OFFSETS = (
    ((1, 1), 1 / 12),
    ((0, 1), 1 / 6),
    ((-1, 1), 1 / 12),
    ((1, -1), 1 / 12),
    ((0, -1), 1 / 6),
    ((-1, -1), 1 / 12),
    ((1, 0), 1 / 6),
    ((-1, 0), 1 / 6),
)


def impute(arr: np.ndarray, indices: np.ndarray, noise: float, rs: np.random.RandomState) -> np.ndarray:
    """Quantus's ``noisy_linear_imputation`` of pixels ``indices`` of ``arr`` ``[C, H, W]``, vectorised."""
    return _add_noise(arr, indices, _solve(arr, indices), noise, rs)


def _add_noise(
    arr: np.ndarray, indices: np.ndarray, res: np.ndarray, noise: float, rs: np.random.RandomState
) -> np.ndarray:
    out = np.copy(arr.reshape(arr.shape[0], -1))
    out[:, indices] = res + noise * rs.randn(*res.shape)
    return out.reshape(arr.shape)


def _solve(arr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The imputed values ``[C, len(indices)]`` before noise: one sparse solve (SuperLU releases the GIL)."""
    c, h, w = arr.shape
    flat = arr.reshape(c, -1)
    n = len(indices)
    known = np.ones(h * w, bool)
    known[indices] = False
    var_id = np.zeros(h * w, dtype=int)
    var_id[indices] = np.arange(n)
    b = np.zeros((n, c))
    sum_neighbors = np.ones(n)
    rows, cols, vals = [], [], []
    r0, c0 = indices // w, indices % w
    for (dr, dc), weight in OFFSETS:
        valid = (r0 + dr >= 0) & (c0 + dc >= 0) & (r0 + dr < h) & (c0 + dc < w)
        ids = np.flatnonzero(valid)
        off = indices[valid] + dr * w + dc
        inside = known[off]
        b[ids[inside], :] -= weight * flat[:, off[inside]].T
        rows.append(ids[~inside])
        cols.append(var_id[off[~inside]])
        vals.append(np.full(int((~inside).sum()), weight))
        sum_neighbors[~valid] -= weight
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(-sum_neighbors)
    a = csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return np.transpose(spsolve(a, b))


def _pixel_order(a: np.ndarray, normalise: bool, abs: bool) -> np.ndarray:
    prepared = quantus_prepare(a, normalise=normalise, abs=abs)[:, 0]
    return np.argsort(-prepared.reshape(len(prepared), -1), axis=1)


@register_metric(
    MetricCfg(
        name="road",
        title="quantus.ROAD (MoRF, pixels ordered by the 2-D map)",
        category="faithfulness",
        higher_is_better=False,
        gate=False,
        defaults=(("percentages", (10, 50, 90)), ("noise", 0.01), ("seed", 0), ("abs", False), ("normalise", True)),
    )
)
def road(
    inp: MetricInputs, sets: dict[str, np.ndarray], *, percentages, noise: float, seed: int, abs: bool, normalise: bool
) -> dict[str, np.ndarray]:
    x, y = inp.x, inp.y
    n, hw = len(x), x.shape[2] * x.shape[3]
    # per set, (percentage, sample) order: the order of Quantus's noise draws
    jobs = [
        [(i, order[i, : int(hw * p / 100)]) for p in percentages for i in range(n)]
        for order in (_pixel_order(a, normalise, abs) for a in sets.values())
    ]
    # the solves do not touch the RNG: run them on torch's thread count, then draw the noise in order
    with ThreadPoolExecutor(max(1, torch.get_num_threads())) as pool:
        solved = [list(pool.map(lambda job: _solve(x[job[0]], job[1]), set_jobs)) for set_jobs in jobs]
    perturbed = []
    for set_jobs, set_solved in zip(jobs, solved):
        rs = np.random.RandomState(seed)  # each set draws from the seed, as Quantus called once per set
        perturbed += [_add_noise(x[i], top, res, noise, rs) for (i, top), res in zip(set_jobs, set_solved)]
    pred = predicted(inp.forward_module(), np.stack(perturbed).astype(np.float32), batch_size=inp.batch_size)
    correct = (pred.reshape(len(sets), len(percentages), n) == y[None, None]).astype(float)
    return {name: correct[i].mean(axis=0) for i, name in enumerate(sets)}


def road_reference(
    module,
    x: np.ndarray,
    y: np.ndarray,
    a: np.ndarray,
    *,
    percentages,
    noise: float,
    seed: int,
    abs: bool = False,
    normalise: bool = True,
) -> np.ndarray:
    """The same definition through Quantus's own imputation and model wrapper, one sample and step at a time."""
    from quantus.functions.perturb_func import noisy_linear_imputation  # lazy: quantus takes ~5 s to import
    from quantus.helpers.model.pytorch_model import PyTorchModel  # lazy: quantus takes ~5 s to import

    model = PyTorchModel(module, channel_first=True, softmax=False, device="cpu")
    order = _pixel_order(a, normalise, abs)
    np.random.seed(seed)
    hw = x.shape[2] * x.shape[3]
    rows = []
    for p in percentages:
        top = order[:, : int(hw * p / 100)]
        xp: np.ndarray = np.stack(
            [noisy_linear_imputation(arr=x[i], indices=top[i], noise=noise) for i in range(len(x))]
        )
        rows.append(np.argmax(model.predict(xp.astype(np.float32)), axis=-1) == y)
    return np.stack(rows, axis=1).astype(float).mean(axis=1)
