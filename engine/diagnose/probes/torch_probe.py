"""Orchard's PyTorch backend probe. Runs inside the app's own environment and prints one JSON line.

What it reports: the torch build string, torch.backends.mps.is_built()/is_available(),
torch.cuda.is_available(), the device torch would use, and a small matmul timed on that device
against the CPU. It never installs anything and never sets PYTORCH_ENABLE_MPS_FALLBACK.
"""
import json
import platform
import sys
import time

out = {"python": sys.version.split()[0], "machine": platform.machine(), "platform": platform.platform()}


def emit():
    print("ORCHARD_PROBE " + json.dumps(out), flush=True)


try:
    import torch
except Exception as exc:  # the app has no torch at all
    out["torch"] = None
    out["error"] = "%s: %s" % (type(exc).__name__, exc)
    emit()
    sys.exit(0)

out["torch"] = str(getattr(torch, "__version__", "unknown"))
out["cuda_build"] = getattr(getattr(torch, "version", None), "cuda", None)
mps = getattr(getattr(torch, "backends", None), "mps", None)
try:
    out["mps_built"] = bool(mps is not None and mps.is_built())
    out["mps_available"] = bool(mps is not None and mps.is_available())
except Exception as exc:
    out["mps_built"], out["mps_available"], out["mps_error"] = False, False, str(exc)
try:
    out["cuda_available"] = bool(torch.cuda.is_available())
    if out["cuda_available"]:
        out["cuda_device"] = torch.cuda.get_device_name(0)
except Exception as exc:
    out["cuda_available"], out["cuda_error"] = False, str(exc)

device = "cuda" if out["cuda_available"] else "mps" if out["mps_available"] else "cpu"
out["device"] = device


def sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()
    elif dev == "mps":
        torch.mps.synchronize()


def timed_matmul(dev, n=512, repeats=5):
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    c = a @ b  # warm-up (kernel compilation on GPUs)
    sync(dev)
    start = time.perf_counter()
    for _ in range(repeats):
        c = a @ b
    sync(dev)
    elapsed = (time.perf_counter() - start) / repeats
    return elapsed, str(getattr(c, "device", dev))


try:
    cpu_s, _ = timed_matmul("cpu")
    out["cpu_matmul_ms"] = round(cpu_s * 1000, 3)
except Exception as exc:
    out["cpu_matmul_error"] = "%s: %s" % (type(exc).__name__, exc)
if device != "cpu":
    try:
        dev_s, where = timed_matmul(device)
        out["device_matmul_ms"] = round(dev_s * 1000, 3)
        out["result_device"] = where
    except Exception as exc:
        out["device_matmul_error"] = "%s: %s" % (type(exc).__name__, exc)
emit()
