"""Our CAM family against pytorch-grad-cam 1.5.7 on the zoo's ResNet (CNN) and ViT-p16, within stated tolerances.

pytorch-grad-cam returns each map min-max scaled, resized with OpenCV,
clipped at 0 and scaled again; :func:`as_pgc` puts our native map through the
same steps, so the comparison is of the maps before any of that.  Token
activations are reshaped by the same ``to_grid`` (its ``reshape_transform``).

Tolerances (max absolute difference of the scaled maps, which lie in 0..1):

* Grad-CAM: ``GRADCAM_TOL`` on both models.
* Grad-CAM++: ``GRADCAMPP_TOL``.  pytorch-grad-cam adds ``eps = 1e-6`` to the
  denominator of ``alpha = g^2 / (2 g^2 + sum(A) g^3)``; where gradients are
  below about 1e-3 (the ViT's ``norm1`` tokens) the eps dominates and the
  maps differ (measured: correlation -0.28 on a zoo ViT-p16 image), so the ViT
  is compared with the same class and ``eps = 0``, the published formula.
* Ablation-CAM: ``ABLATION_TOL`` with every channel ablated (``n_channels=0``)
  on a post-ReLU layer, where pytorch-grad-cam zeroes the channel as we do (on
  layers with negative activations it sets ``min - 1e7`` instead, a different
  ablation); toy ResNet, so all channels stay cheap.
* Score-CAM is not compared: pytorch-grad-cam weights channels by a softmax
  over channels of the target logit, ours (Wang et al. 2020) by the target's
  softmax probability over classes; the two are different methods.
"""

import numpy as np
import pytest
import torch

pgc = pytest.importorskip("pytorch_grad_cam")

from pytorch_grad_cam.utils.image import scale_cam_image  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

from harness.explainers import create_explainer  # noqa: E402
from harness.explainers.cam import capture_activation  # noqa: E402
from harness.explainers.tokens import to_grid  # noqa: E402
from harness.images import preprocess, read_image  # noqa: E402
from harness.models import load_model  # noqa: E402
from harness.zoo.shapes import shapes_images  # noqa: E402

GRADCAM_TOL = 1e-5
GRADCAMPP_TOL = 5e-3
ABLATION_TOL = 1e-5


class GradCAMPlusPlusNoEps(pgc.GradCAMPlusPlus):
    """pytorch-grad-cam's Grad-CAM++ weights with its ``eps`` set to 0 (the published closed form)."""

    def get_cam_weights(self, input_tensor, target_layers, target_category, activations, grads):
        g2 = grads**2
        g3 = g2 * grads
        axes = tuple(range(2, activations.ndim))
        s = np.sum(activations, axis=axes).reshape(activations.shape[:2] + (1,) * len(axes))
        denom = 2 * g2 + s * g3
        aij = np.where((grads != 0) & (denom != 0), g2 / np.where(denom != 0, denom, 1), 0)
        return np.sum(np.maximum(grads, 0) * aij, axis=axes)


def as_pgc(native: np.ndarray, side: int) -> np.ndarray:
    return scale_cam_image(np.maximum(scale_cam_image(native, (side, side)), 0))


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    images = shapes_images("test", 2, root=tmp_path_factory.mktemp("shapes"))
    out = {}
    for name in ("zoo_resnet", "zoo_vit_p16", "toy_resnet"):
        m = load_model(name, device="cpu", random_ok=True)
        if m.cfg.label_space == "shapes":
            x = preprocess([read_image(r.path) for r in images.records], m.cfg)
        else:
            g = torch.Generator().manual_seed(0)
            x = torch.nn.functional.interpolate(torch.rand(2, 3, 8, 8, generator=g), size=64, mode="bilinear") * 2 - 1
        with torch.no_grad():
            t = m.module(x).argmax(1)
        out[name] = (m, x, t)
    return out


def _compare(zoo, model, ours_name, ref_cls, tol, **params):
    m, x, t = zoo[model]
    layer = m.module.get_submodule(m.cfg.target_layer(100))
    reshape = (lambda a: to_grid(a, m.cfg)) if m.cfg.layout != "nchw" else None
    ours = create_explainer(ours_name, **params)(m, x, t)
    with ref_cls(model=m.module, target_layers=[layer], reshape_transform=reshape) as cam:
        ref = cam(input_tensor=x, targets=[ClassifierOutputTarget(int(c)) for c in t])
    mine = as_pgc(ours.native, x.shape[-1])
    worst = float(np.abs(mine - ref).max())
    assert worst <= tol, f"{ours_name} on {m.label}: max |ours - pytorch-grad-cam| = {worst:.3g} > {tol}"
    return worst


@pytest.mark.parametrize("model", ["zoo_resnet", "zoo_vit_p16"])
def test_gradcam_equals_pytorch_grad_cam(zoo, model):
    _compare(zoo, model, "gradcam", pgc.GradCAM, GRADCAM_TOL)


def test_gradcampp_equals_pytorch_grad_cam_on_the_cnn(zoo):
    _compare(zoo, "zoo_resnet", "gradcampp", pgc.GradCAMPlusPlus, GRADCAMPP_TOL)


def test_gradcampp_on_the_vit_equals_the_published_formula(zoo):
    _compare(zoo, "zoo_vit_p16", "gradcampp", GradCAMPlusPlusNoEps, GRADCAMPP_TOL)
    with pytest.raises(AssertionError, match="max"):  # pytorch-grad-cam's eps changes these maps: say so
        _compare(zoo, "zoo_vit_p16", "gradcampp", pgc.GradCAMPlusPlus, GRADCAMPP_TOL)


def test_ablationcam_equals_pytorch_grad_cam_with_every_channel(zoo):
    m, x, t = zoo["toy_resnet"]
    with torch.no_grad():
        _, act = capture_activation(m, m.cfg.target_layer(100), x)
        assert float(act.min()) == 0.0 and bool((m.module(x).gather(1, t[:, None]) > 0).all())
    _compare(zoo, "toy_resnet", "ablationcam", pgc.AblationCAM, ABLATION_TOL, n_channels=0)
