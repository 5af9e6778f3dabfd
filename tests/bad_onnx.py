#!/usr/bin/python3
"""ONNX files the importer must refuse, each with one line naming the node and the problem (used by
tests/bad_input.sh), and good.onnx, the same small network well-formed.   usage: bad_onnx.py DIR"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

d = sys.argv[1]


def model(nodes, inits, out_shape, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)
    g = helper.make_graph(nodes, "g", [x], [y], [numpy_helper.from_array(a, n) for n, a in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    with open(os.path.join(d, name), "wb") as f:
        f.write(m.SerializeToString())


w = np.ones((2, 1, 3, 3), np.float32)


def conv(**kw):
    return helper.make_node("Conv", ["x", "w"], ["c"], name="conv1", **kw)


def relu(**kw):
    return helper.make_node("Relu", ["c"], ["y"], name="relu1", **kw)


model([conv(), relu()], {"w": w}, [1, 2, 4, 4], "good.onnx")
# a Relu of another domain would be fused into the Conv as the standard one
model([conv(), relu(domain="com.example")], {"w": w}, [1, 2, 4, 4], "foreign_relu.onnx")
model([helper.make_node("Flatten", ["x"], ["f"], name="flat"), helper.make_node("Softmax", ["f"], ["y"], name="soft", domain="com.example")],
      {}, [1, 36], "foreign_softmax.onnx")
# floats where ints belong were read as the default (dilation 1)
model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", dilations=[2.0, 2.0])], {"w": w}, [1, 2, 2, 2], "float_dilations.onnx")
twice = helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", strides=[2, 2])
twice.attribute.extend([helper.make_attribute("strides", [1, 1])])
model([twice], {"w": w}, [1, 2, 2, 2], "two_strides.onnx")
model([conv(), helper.make_node("Relu", ["c", "w"], ["y"], name="relu1")], {"w": w}, [1, 2, 4, 4], "extra_input.onnx")
nan_w = w.copy()
nan_w[1, 0, 2, 2] = np.nan
model([conv()], {"w": nan_w}, [1, 2, 4, 4], "nan_weight.onnx")
model([helper.make_node("Flatten", ["x"], ["f"], name="flat"),
       helper.make_node("Gemm", ["f", "b"], ["y"], name="fc", alpha=float("nan"), transB=1)],
      {"b": np.ones((3, 36), np.float32)}, [1, 3], "nan_alpha.onnx")
# an infinite Slice start (a single inf is allowed as a bound) was converted to an integer: undefined
model([helper.make_node("Slice", ["x", "inf", "end", "ax"], ["y"], name="cut")],
      {"inf": np.array([np.inf], np.float32), "end": np.array([4], np.int64), "ax": np.array([3], np.int64)}, [1, 1, 6, 4], "inf_slice.onnx")
# a folded 0/0 was a NaN size for Reshape
model([helper.make_node("Div", ["zero", "zero"], ["nan"], name="zero_by_zero"), helper.make_node("Cast", ["nan"], ["n"], name="to_int", to=7),
       helper.make_node("Concat", ["one", "n"], ["shape"], name="shape", axis=0), helper.make_node("Reshape", ["x", "shape"], ["y"], name="flat")],
      {"zero": np.array([0], np.float32), "one": np.array([1], np.int64)}, [1, 36], "nan_shape.onnx")
# a folded Log(-1)
model([helper.make_node("Log", ["m"], ["l"], name="log_of_minus"), helper.make_node("Add", ["x", "l"], ["y"], name="add")],
      {"m": np.array([-1], np.float32)}, [1, 1, 6, 6], "nan_log.onnx")
