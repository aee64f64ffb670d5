"""Orchard's MLX backend probe. Runs with the app's own python and prints one JSON line.

It records what MLX itself says, as Python prints it (repr), so the engine parses exactly the
text users see: mx.default_device(), mx.metal.is_available(), the device info (mx.device_info()
on mlx >= 0.30, else mx.metal.device_info()), plus a matmul timed on the GPU and on the CPU.
It never installs anything and never changes the default device.
"""
import json
import platform
import sys
import time

out = {"python": sys.version.split()[0], "machine": platform.machine(), "platform": platform.platform()}


def emit():
    print("ORCHARD_PROBE " + json.dumps(out), flush=True)


try:
    import mlx.core as mx
except Exception as exc:  # no MLX in this environment at all
    out["mlx"] = None
    out["error"] = "%s: %s" % (type(exc).__name__, exc)
    emit()
    sys.exit(0)

out["mlx"] = str(getattr(mx, "__version__", "unknown"))


def record(name, fn):
    try:
        out[name] = repr(fn())
    except Exception as exc:
        out[name + "_error"] = "%s: %s" % (type(exc).__name__, exc)


record("default_device", mx.default_device)
record("metal_available", mx.metal.is_available)
cuda = getattr(mx, "cuda", None)
if cuda is not None and hasattr(cuda, "is_available"):
    record("cuda_available", cuda.is_available)
record("device_info", getattr(mx, "device_info", None) or mx.metal.device_info)


def timed_matmul(device, n=1024, repeats=5):
    a = mx.random.normal((n, n))
    b = mx.random.normal((n, n))
    mx.eval(a, b)
    mx.eval(mx.matmul(a, b, stream=device))  # warm-up (kernel compilation)
    start = time.perf_counter()
    for _ in range(repeats):
        mx.eval(mx.matmul(a, b, stream=device))
    return round((time.perf_counter() - start) / repeats * 1000, 3)


try:
    out["cpu_matmul_ms"] = timed_matmul(mx.cpu)
except Exception as exc:
    out["cpu_matmul_error"] = "%s: %s" % (type(exc).__name__, exc)
try:
    out["gpu_matmul_ms"] = timed_matmul(mx.gpu)
except Exception as exc:
    out["gpu_matmul_error"] = "%s: %s" % (type(exc).__name__, exc)
emit()
