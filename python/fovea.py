"""fovea from Python: a ctypes binding over the installed (or built) libfovea.so.

Standard library and NumPy only. Errors from the library are raised as fovea.Error with fovea's
message. Arrays are float32, samples channels-last (N, H, W, C) as fovea keeps them.

    import numpy as np, fovea
    net = fovea.Net.from_text(open("models/mnist-cnn.fv").read())
    net.fit(x_train, y_train, epochs=5, batch_size=64, seed=1)
    print(net.evaluate(x_test, y_test)["accuracy"])
    probabilities = net.predict(x_test[:8])
    heat = net.saliency(x_test[0])                      # (H, W) array
    net.save("mnist-cnn.fvm")

The library is found from FOVEA_LIBRARY, then next to this file (../build/libfovea.so, for a source
checkout), then where the system keeps libraries (an installed fovea).
"""
import ctypes
import ctypes.util
import json
import os

import numpy as np

__all__ = ["Error", "Net", "convolve2d", "library_version"]


class Error(Exception):
    """An error reported by the fovea library (its message names what is wrong)."""


def _find_library():
    # libgomp reads its wait policy when it is loaded: spin briefly, then sleep, so that a machine
    # another program shares does not stall every parallel region (see tools/fovea.c's
    # fair_share); a policy the user set is left alone
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = "1000"

    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.environ.get("FOVEA_LIBRARY"), os.path.join(here, "..", "build", "libfovea.so"), ctypes.util.find_library("fovea")):
        if path and (os.path.exists(path) or not os.path.dirname(path)):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    raise Error("libfovea.so not found: install fovea, build it (build/libfovea.so), or set FOVEA_LIBRARY")


_lib = _find_library()
_c_float_p = ctypes.POINTER(ctypes.c_float)


class _Error(ctypes.Structure):
    _c_name_ = "fv_error"  # checked against the library's layout (_check_layout)
    _fields_ = [("message", ctypes.c_char * 512)]


class _Shape(ctypes.Structure):
    _c_name_ = "fv_shape"  # checked against the library's layout (_check_layout)
    _fields_ = [("rank", ctypes.c_int), ("dim", ctypes.c_int * 4)]


class _Loss(ctypes.Structure):
    _c_name_ = "fv_loss"  # checked against the library's layout (_check_layout)
    _fields_ = [("kind", ctypes.c_int), ("label_smoothing", ctypes.c_float)]


class _Dataset(ctypes.Structure):
    _c_name_ = "fv_dataset"  # checked against the library's layout (_check_layout)
    _fields_ = [("count", ctypes.c_size_t), ("shape", _Shape), ("x", _c_float_p), ("labels", ctypes.POINTER(ctypes.c_int32)),
                ("n_classes", ctypes.c_int), ("class_names", ctypes.c_void_p)]


class _FitConfig(ctypes.Structure):
    _c_name_ = "fv_fit_config"  # checked against the library's layout (_check_layout)
    _fields_ = [("epochs", ctypes.c_int), ("batch_size", ctypes.c_int), ("initial_epoch", ctypes.c_int), ("loss", _Loss),
                ("seed", ctypes.c_uint64), ("shuffle", ctypes.c_int), ("validation", ctypes.POINTER(_Dataset)),
                ("patience", ctypes.c_int), ("restore_best", ctypes.c_int), ("shift_pixels", ctypes.c_int),
                ("flip_horizontal", ctypes.c_int), ("rotate_degrees", ctypes.c_float), ("progress", ctypes.c_void_p),
                ("on_batch", ctypes.c_void_p), ("on_epoch", ctypes.c_void_p), ("checkpoint_every", ctypes.c_int),
                ("checkpoint_seconds", ctypes.c_double), ("on_checkpoint", ctypes.c_void_p), ("resume_at", ctypes.c_void_p),
                ("user", ctypes.c_void_p), ("interrupt", ctypes.c_void_p), ("bucket_bytes", ctypes.c_size_t)]


class _OptimizerConfig(ctypes.Structure):
    _c_name_ = "fv_optimizer_config"  # checked against the library's layout (_check_layout)
    _fields_ = [("kind", ctypes.c_int), ("learning_rate", ctypes.c_float), ("momentum", ctypes.c_float), ("nesterov", ctypes.c_int),
                ("weight_decay", ctypes.c_float), ("beta1", ctypes.c_float), ("beta2", ctypes.c_float), ("epsilon", ctypes.c_float),
                ("schedule", ctypes.c_int), ("step_epochs", ctypes.c_int), ("gamma", ctypes.c_float), ("cosine_epochs", ctypes.c_int),
                ("min_learning_rate", ctypes.c_float)]


class _Metrics(ctypes.Structure):
    _c_name_ = "fv_metrics"  # checked against the library's layout (_check_layout)
    _fields_ = [("count", ctypes.c_size_t), ("loss", ctypes.c_double), ("accuracy", ctypes.c_double), ("n_classes", ctypes.c_int),
                ("confusion", ctypes.c_void_p), ("precision", ctypes.c_void_p), ("recall", ctypes.c_void_p), ("f1", ctypes.c_void_p),
                ("macro_precision", ctypes.c_double), ("macro_recall", ctypes.c_double), ("macro_f1", ctypes.c_double)]


class _ParamInfo(ctypes.Structure):
    _c_name_ = "fv_param_info"  # checked against the library's layout (_check_layout)
    _fields_ = [("name", ctypes.c_char_p), ("node", ctypes.c_int), ("trainable", ctypes.c_int), ("rank", ctypes.c_int),
                ("dim", ctypes.c_int * 5), ("count", ctypes.c_size_t), ("value", _c_float_p), ("grad", _c_float_p)]


class _SaliencyConfig(ctypes.Structure):
    _c_name_ = "fv_saliency_config"  # checked against the library's layout (_check_layout)
    _fields_ = [("method", ctypes.c_int), ("samples", ctypes.c_int), ("noise", ctypes.c_float), ("seed", ctypes.c_uint64)]


class _Image(ctypes.Structure):
    _c_name_ = "fv_image"  # checked against the library's layout (_check_layout)
    _fields_ = [("height", ctypes.c_int), ("width", ctypes.c_int), ("channels", ctypes.c_int), ("pixels", _c_float_p)]


class _QuantizeCandidate(ctypes.Structure):
    _c_name_ = "fv_quantize_candidate"  # checked against the library's layout (_check_layout)
    _fields_ = [("method", ctypes.c_int), ("first_fp32", ctypes.c_int), ("last_fp32", ctypes.c_int), ("agreement", ctypes.c_double),
                ("error", ctypes.c_double)]


class _QuantizeReport(ctypes.Structure):
    _c_name_ = "fv_quantize_report"  # checked against the library's layout (_check_layout)
    _fields_ = [("samples", ctypes.c_size_t), ("layers", ctypes.c_int), ("n_candidates", ctypes.c_int), ("chosen", ctypes.c_int),
                ("candidates", _QuantizeCandidate * 8)]


def _sig(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype, f.argtypes = restype, list(argtypes)
    return f


_P = ctypes.c_void_p
_E = ctypes.POINTER(_Error)
_version = _sig("fv_version", ctypes.c_char_p)
_net_from_text = _sig("fv_net_from_text", _P, ctypes.c_char_p, ctypes.c_char_p, _E)
_net_load = _sig("fv_net_load", _P, ctypes.c_char_p, _P, _E)
_net_free = _sig("fv_net_free", None, _P)
_net_plan = _sig("fv_net_plan", ctypes.c_int, _P, ctypes.c_int, ctypes.c_int, ctypes.c_uint64, _E)
_net_plan_mode = _sig("fv_net_plan_mode", ctypes.c_int, _P, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_uint64, _E)
_net_batch = _sig("fv_net_batch", ctypes.c_int, _P)
_net_mode = _sig("fv_net_mode", ctypes.c_int, _P)
_init_params = _sig("fv_net_init_params", ctypes.c_int, _P, ctypes.c_uint64, _E)
_backend_default = _sig("fv_backend_default", ctypes.c_int)
_node_count = _sig("fv_net_node_count", ctypes.c_int, _P)
_node_name = _sig("fv_net_node_name", ctypes.c_char_p, _P, ctypes.c_int)
_node_shape = _sig("fv_net_node_shape", _Shape, _P, ctypes.c_int)
_find = _sig("fv_net_find", ctypes.c_int, _P, ctypes.c_char_p)
_output_node = _sig("fv_net_output_node", ctypes.c_int, _P)
_param_count = _sig("fv_net_param_count", ctypes.c_int, _P)
_param = _sig("fv_net_param", ctypes.c_int, _P, ctypes.c_int, ctypes.POINTER(_ParamInfo), _E)
_summary = _sig("fv_net_summary", ctypes.c_int, _P, ctypes.c_char_p, ctypes.c_size_t)
_fit_defaults = _sig("fv_fit_defaults", _FitConfig)
_adam = _sig("fv_adam", _OptimizerConfig, ctypes.c_float)
_sgd = _sig("fv_sgd", _OptimizerConfig, ctypes.c_float, ctypes.c_float)
_optimizer_new = _sig("fv_optimizer_new", _P, _P, ctypes.POINTER(_OptimizerConfig), _E)
_optimizer_free = _sig("fv_optimizer_free", None, _P)
_fit = _sig("fv_fit", ctypes.c_int, _P, _P, ctypes.POINTER(_Dataset), ctypes.POINTER(_FitConfig), _P, _E)
_evaluate = _sig("fv_evaluate", ctypes.c_int, _P, ctypes.POINTER(_Dataset), _Loss, ctypes.POINTER(_Metrics), _E)
_metrics_json = _sig("fv_metrics_json", ctypes.c_int, ctypes.POINTER(_Metrics), _P, ctypes.c_char_p, ctypes.c_size_t)
_metrics_free = _sig("fv_metrics_free", None, ctypes.POINTER(_Metrics))
_predict = _sig("fv_predict", ctypes.c_int, _P, _c_float_p, ctypes.c_size_t, _c_float_p, _E)
_model_save = _sig("fv_model_save", ctypes.c_int, ctypes.c_char_p, _P, _P, _P, _E)
_saliency = _sig("fv_saliency", ctypes.c_int, _P, _c_float_p, ctypes.c_int, ctypes.POINTER(_SaliencyConfig), _c_float_p, _E)
_saliency_defaults = _sig("fv_saliency_defaults", _SaliencyConfig)
_gradcam_size = _sig("fv_gradcam_size", ctypes.c_int, _P, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), _E)
_gradcam = _sig("fv_gradcam", ctypes.c_int, _P, _c_float_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, _c_float_p, _c_float_p, _E)
_predict_class = _sig("fv_predict_class", ctypes.c_int, _P, _c_float_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_float), _E)
_show_node = _sig("fv_show_node", ctypes.POINTER(_Image), _P, ctypes.c_int, ctypes.c_int, _E)
_show_filters = _sig("fv_show_filters", ctypes.POINTER(_Image), _P, ctypes.c_int, _E)
_image_free = _sig("fv_image_free", None, ctypes.POINTER(_Image))
_forward = _sig("fv_net_forward", ctypes.c_int, _P, _c_float_p, ctypes.c_int, _E)
_convolve2d = _sig("fv_convolve2d", ctypes.c_int, _c_float_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, _c_float_p, ctypes.c_int,
                   ctypes.c_int, ctypes.c_int, ctypes.c_int, _c_float_p, _E)
_convolve2d_shape = _sig("fv_convolve2d_shape", ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                         ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), _E)

_net_set_precision = _sig("fv_net_set_precision", None, _P, ctypes.c_int)
_net_precision = _sig("fv_net_precision", ctypes.c_int, _P)
_net_planned_precision = _sig("fv_net_planned_precision", ctypes.c_int, _P)
_quantize = _sig("fv_quantize", ctypes.c_int, _P, ctypes.POINTER(_Dataset), ctypes.c_size_t, ctypes.c_int, ctypes.POINTER(_QuantizeReport), _E)

_PLAN_TRAINING, _PLAN_INSPECTION, _PLAN_INFERENCE = 0, 1, 2
_PRECISIONS = {"fp32": 0, "bf16": 1, "int8": 2}
_CALIBRATIONS = {"minmax": 0, "percentile": 1}
_METHODS = {"vanilla": 0, "smoothgrad": 1, "guided": 2}
_MODES = {"full": 0, "same": 1, "valid": 2}
_STRUCTS = [_Error, _Shape, _Loss, _Dataset, _FitConfig, _OptimizerConfig, _Metrics, _ParamInfo, _SaliencyConfig, _Image, _QuantizeCandidate,
            _QuantizeReport]
_ENUMS = {"FV_OK": 0, "FV_PLAN_TRAINING": _PLAN_TRAINING, "FV_PLAN_INSPECTION": _PLAN_INSPECTION, "FV_PLAN_INFERENCE": _PLAN_INFERENCE,
          "FV_SALIENCY_VANILLA": _METHODS["vanilla"], "FV_SALIENCY_SMOOTHGRAD": _METHODS["smoothgrad"],
          "FV_SALIENCY_GUIDED": _METHODS["guided"], "FV_CONVOLVE_FULL": _MODES["full"], "FV_CONVOLVE_SAME": _MODES["same"],
          "FV_CONVOLVE_VALID": _MODES["valid"], "FV_PRECISION_FP32": _PRECISIONS["fp32"], "FV_PRECISION_BF16": _PRECISIONS["bf16"],
          "FV_PRECISION_INT8": _PRECISIONS["int8"], "FV_CALIBRATION_MINMAX": _CALIBRATIONS["minmax"],
          "FV_CALIBRATION_PERCENTILE": _CALIBRATIONS["percentile"]}


class _AbiEntry(ctypes.Structure):
    _fields_ = [("type", ctypes.c_char_p), ("member", ctypes.c_char_p), ("offset", ctypes.c_size_t), ("size", ctypes.c_size_t),
                ("value", ctypes.c_longlong)]


def _check_layout():
    """Where this file's mirror of fovea.h disagrees with the library's own layout (fv_abi_layout):
    a list of lines, empty when every struct, field and enum value agrees."""
    count = ctypes.c_int()
    layout = _sig("fv_abi_layout", ctypes.POINTER(_AbiEntry), ctypes.POINTER(ctypes.c_int))(ctypes.byref(count))
    entries = [layout[i] for i in range(count.value)]
    problems, structs = [], {}
    for e in entries:
        if e.member is None:
            structs[e.type.decode()] = (e.size, [])
        elif e.type.decode() in structs:
            structs[e.type.decode()][1].append((e.member.decode(), e.offset, e.size))
        elif _ENUMS.get(e.member.decode()) != e.value:
            problems.append(f"{e.member.decode()} is {e.value} in the library, {_ENUMS.get(e.member.decode())} here")
    mirrored = {cls._c_name_: cls for cls in _STRUCTS}
    for name, (size, members) in structs.items():
        cls = mirrored.get(name)
        if cls is None:
            problems.append(f"{name} is not mirrored")
            continue
        if ctypes.sizeof(cls) != size:
            problems.append(f"{name}: {ctypes.sizeof(cls)} bytes here, {size} in the library")
        fields = [(f[0], getattr(cls, f[0]).offset, getattr(cls, f[0]).size) for f in cls._fields_]
        if fields != members:
            problems.append(f"{name}: fields {fields} here, {members} in the library")
    return problems


def library_version():
    """The version of the libfovea.so in use."""
    return _version().decode()


def _check(status, err):
    if status != 0:
        raise Error(err.message.decode(errors="replace"))


def _floats(a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    return a, a.ctypes.data_as(_c_float_p)


def _image_array(ptr, err):
    if not ptr:
        raise Error(err.message.decode(errors="replace"))
    im = ptr.contents
    a = np.ctypeslib.as_array(im.pixels, shape=(im.height, im.width, im.channels)).copy()
    _image_free(ptr)
    return a


class Net:
    """A fovea network: from a model definition (text), a definition file or a saved model."""

    def __init__(self, handle):
        self._net = handle

    @classmethod
    def from_text(cls, text, source="python"):
        err = _Error()
        return cls(_checked(_net_from_text(text.encode(), source.encode(), ctypes.byref(err)), err))

    @classmethod
    def load(cls, path):
        """A saved model (.fvm) with its weights, or a model definition (.fv)."""
        err = _Error()
        return cls(_checked(_net_load(os.fsencode(path), None, ctypes.byref(err)), err))

    def __del__(self):
        if getattr(self, "_net", None):
            _net_free(self._net)
            self._net = None

    # ---- what it is ----
    def summary(self):
        n = _summary(self._net, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        _summary(self._net, buf, n + 1)
        return buf.value.decode()

    def layer_names(self):
        return [_node_name(self._net, i).decode() for i in range(_node_count(self._net))]

    def _node(self, layer):
        if isinstance(layer, int):
            return layer
        node = _find(self._net, layer.encode())
        if node < 0:
            raise Error(f"no layer '{layer}' (layers: {', '.join(self.layer_names()[1:])})")
        return node

    def shape(self, layer=0):
        s = _node_shape(self._net, self._node(layer))
        return tuple(s.dim[:s.rank])

    def weights(self):
        """Every parameter as {"layer/name": array}, in the network's order."""
        err = _Error()
        _check(_init_params(self._net, 1, ctypes.byref(err)), err)
        out = {}
        for i in range(_param_count(self._net)):
            p = _ParamInfo()
            _check(_param(self._net, i, ctypes.byref(p), ctypes.byref(err)), err)
            key = f"{_node_name(self._net, p.node).decode()}/{p.name.decode()}"
            out[key] = np.ctypeslib.as_array(p.value, shape=tuple(p.dim[:p.rank])).copy()
        return out

    # ---- precision ----
    @property
    def precision(self):
        """'fp32', 'bf16' (mixed precision, as torch.autocast) or 'int8' (a quantised network):
        what the next plan runs in (fovea.h, fv_precision)."""
        return next(k for k, v in _PRECISIONS.items() if v == _net_precision(self._net))

    @precision.setter
    def precision(self, value):
        if value not in _PRECISIONS:
            raise Error(f"unknown precision '{value}' (fp32, bf16 or int8)")
        _net_set_precision(self._net, _PRECISIONS[value])

    def quantize(self, x, y, samples=1024):
        """Post-training int8 quantisation calibrated on x's first `samples` samples (as `fovea
        quantize`); the network then runs in int8. Returns the candidates tried and the one kept."""
        err, report = _Error(), _QuantizeReport()
        data, keep = self._dataset(x, y)
        _check(_quantize(self._net, ctypes.byref(data), samples, _backend_default(), ctypes.byref(report), ctypes.byref(err)), err)
        del keep
        names = {v: k for k, v in _CALIBRATIONS.items()}
        tried = [{"method": names[c.method], "first_fp32": bool(c.first_fp32), "last_fp32": bool(c.last_fp32), "agreement": c.agreement,
                  "error": c.error} for c in report.candidates[:report.n_candidates]]
        return {"samples": report.samples, "layers": report.layers, "candidates": tried, "chosen": tried[report.chosen]}

    # ---- training and using it ----
    def _dataset(self, x, y):
        x, xp = _floats(x)
        y = np.ascontiguousarray(y, dtype=np.int32).reshape(-1)
        if len(x) != len(y):
            raise Error(f"{len(x)} samples but {len(y)} labels")
        shape = _Shape()
        sample = x.shape[1:] if x.ndim > 1 else (1,)
        shape.rank = len(sample)
        for i, d in enumerate(sample):
            shape.dim[i] = d
        classes = int(y.max()) + 1 if len(y) else 0
        names = ctypes.create_string_buffer(64 * max(classes, 1))
        d = _Dataset(len(x), shape, xp, y.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), classes, ctypes.cast(names, ctypes.c_void_p))
        return d, (x, y, names)  # the arrays must outlive the call

    def _loss(self):
        units = int(np.prod(self.shape(_output_node(self._net))))
        return _Loss(1 if units == 1 else 0, 0.0)

    def fit(self, x, y, epochs=5, batch_size=64, optimizer="adam", learning_rate=None, momentum=0.9, seed=1, shuffle=True,
            progress=False):
        """Trains on NumPy arrays: x (N, ...sample shape), y (N) integer classes. The same steps as
        `fovea train` with the same options and seed, so the same weights."""
        err = _Error()
        data, keep = self._dataset(x, y)
        _check(_net_plan(self._net, batch_size, _backend_default(), seed, ctypes.byref(err)), err)
        oc = _sgd(learning_rate or 0.01, momentum) if optimizer == "sgd" else _adam(learning_rate or 0.001)
        opt = _optimizer_new(self._net, ctypes.byref(oc), ctypes.byref(err))
        if not opt:
            raise Error(err.message.decode())
        c = _fit_defaults()
        c.epochs, c.batch_size, c.seed, c.shuffle, c.loss = epochs, batch_size, seed, int(shuffle), self._loss()
        try:
            _check(_fit(self._net, opt, ctypes.byref(data), ctypes.byref(c), None, ctypes.byref(err)), err)
        finally:
            _optimizer_free(opt)
        del keep
        return self

    def evaluate(self, x, y, batch_size=256):
        """Loss, accuracy, per-class metrics and the confusion matrix, as `fovea evaluate --json`."""
        err = _Error()
        data, keep = self._dataset(x, y)
        _check(_net_plan_mode(self._net, min(batch_size, len(keep[0])), _backend_default(), _PLAN_INFERENCE, 1, ctypes.byref(err)), err)
        m = _Metrics()
        _check(_evaluate(self._net, ctypes.byref(data), self._loss(), ctypes.byref(m), ctypes.byref(err)), err)
        n = _metrics_json(ctypes.byref(m), None, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        _metrics_json(ctypes.byref(m), None, buf, n + 1)
        _metrics_free(ctypes.byref(m))
        return json.loads(buf.value.decode())

    def predict(self, x, batch_size=256):
        """The network's outputs (probabilities for a softmax output) for x (N, ...sample shape)."""
        err = _Error()
        x, xp = _floats(x)
        if _net_batch(self._net) == 0 or _net_mode(self._net) == _PLAN_TRAINING or _net_planned_precision(self._net) != _net_precision(self._net):
            _check(_net_plan_mode(self._net, min(batch_size, len(x)), _backend_default(), _PLAN_INFERENCE, 1, ctypes.byref(err)), err)
        out = np.empty((len(x),) + self.shape(_output_node(self._net)), dtype=np.float32)
        _check(_predict(self._net, xp, len(x), out.ctypes.data_as(_c_float_p), ctypes.byref(err)), err)
        return out

    def save(self, path):
        """Weights only (no optimizer state)."""
        err = _Error()
        _check(_model_save(os.fsencode(path), self._net, None, None, ctypes.byref(err)), err)

    # ---- looking inside (one image, channels last) ----
    def predict_class(self, image):
        err, k, p = _Error(), ctypes.c_int(), ctypes.c_float()
        image, ip = _floats(image)
        _check(_predict_class(self._net, ip, ctypes.byref(k), ctypes.byref(p), ctypes.byref(err)), err)
        return k.value, p.value

    def saliency(self, image, class_index=None, method="vanilla", samples=25, noise=0.15, seed=1):
        """|d class score / d pixel|, max over channels: an (H, W) array."""
        err = _Error()
        image, ip = _floats(image)
        k = self.predict_class(image)[0] if class_index is None else class_index
        c = _saliency_defaults()
        c.method, c.samples, c.noise, c.seed = _METHODS[method], samples, noise, seed
        out = np.empty(image.shape[:2], dtype=np.float32)
        _check(_saliency(self._net, ip, k, ctypes.byref(c), out.ctypes.data_as(_c_float_p), ctypes.byref(err)), err)
        return out

    def gradcam(self, image, layer=None, class_index=None, plus_plus=False):
        """Grad-CAM at a layer (default: the last conv2d), upsampled to the image: an (H, W) array."""
        err = _Error()
        image, ip = _floats(image)
        k = self.predict_class(image)[0] if class_index is None else class_index
        node = -1 if layer is None else self._node(layer)
        h, w = ctypes.c_int(), ctypes.c_int()
        _check(_gradcam_size(self._net, node, ctypes.byref(h), ctypes.byref(w), ctypes.byref(err)), err)
        cam = np.empty((h.value, w.value), dtype=np.float32)  # the layer's size, as the library says
        up = np.empty(image.shape[:2], dtype=np.float32)
        _check(_gradcam(self._net, ip, node, k, int(plus_plus), cam.ctypes.data_as(_c_float_p), up.ctypes.data_as(_c_float_p),
                        ctypes.byref(err)), err)
        return up

    def feature_maps(self, image, layer):
        """A layer's output for one image, drawn as fovea show draws it: an (h, w, 3) picture in [0, 1]."""
        err = _Error()
        image, ip = _floats(image)
        _check(_net_plan_mode(self._net, 1, _backend_default(), _PLAN_INSPECTION, 1, ctypes.byref(err)), err)
        _check(_forward(self._net, ip, 0, ctypes.byref(err)), err)
        return _image_array(_show_node(self._net, self._node(layer), 0, ctypes.byref(err)), err)

    def filters(self, layer):
        """A conv2d layer's kernels as one picture (h, w, 3) in [0, 1]."""
        err = _Error()
        _check(_init_params(self._net, 1, ctypes.byref(err)), err)
        return _image_array(_show_filters(self._net, self._node(layer), ctypes.byref(err)), err)


def _checked(handle, err):
    if not handle:
        raise Error(err.message.decode(errors="replace"))
    return handle


def convolve2d(x, kernel, mode="same", correlate=False):
    """scipy.signal.convolve2d (or correlate2d) on each channel of x (H, W[, C]) with a 2-D kernel."""
    err = _Error()
    x = np.asarray(x, dtype=np.float32)
    squeeze = x.ndim == 2
    x3 = x[..., None] if squeeze else x
    x3, xp = _floats(x3)
    k, kp = _floats(kernel)
    oh, ow = ctypes.c_int(), ctypes.c_int()
    _check(_convolve2d_shape(x3.shape[0], x3.shape[1], k.shape[0], k.shape[1], _MODES[mode], ctypes.byref(oh), ctypes.byref(ow),
                             ctypes.byref(err)), err)
    out = np.empty((oh.value, ow.value, x3.shape[2]), dtype=np.float32)
    _check(_convolve2d(xp, x3.shape[0], x3.shape[1], x3.shape[2], kp, k.shape[0], k.shape[1], _MODES[mode], int(correlate),
                       out.ctypes.data_as(_c_float_p), ctypes.byref(err)), err)
    return out[..., 0] if squeeze else out
