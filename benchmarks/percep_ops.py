"""Speed of the PragComm ops: Triton kernels against their PyTorch references, at the paper's OPV2V sizes.

Workloads (brief §2-§3):
  scatter   70,000 pillars x 64 channels onto 4 agents' 64 x 200 x 704 canvases (OPV2V test-time pillar cap)
  assign    35,200 cells x 2 groups (one 100 x 352 message) of 32-d vectors against K=256 codewords
  iou       rotated BEV IoU of 500 x 500 boxes
  nms       rotated NMS of 1,000 scored boxes (reference only)
Each is timed as the best of --reps runs after a warm-up (synchronised on CUDA). The kernels need a GPU: on a
machine without CUDA the script says so, times the references only and reports the speed-ups as n/a. It also
checks, where it runs kernels, that they equal the references. Prints (does not assert); the last line is

  percep_ops: device=<cpu|cuda> scatter_speedup=<ref/kernel|n/a> assign_speedup=<ref/kernel|n/a> iou_speedup=<ref/kernel|n/a> scatter_ref_ms=<ms> assign_ref_ms=<ms> iou_ref_ms=<ms> nms_ref_ms=<ms>

Run: python benchmarks/percep_ops.py [--reps 5] [--device cpu|cuda]
"""
import argparse
import math
import time

import torch


def best_ms(fn, reps: int, cuda: bool) -> float:
    "Best wall time of `fn()` over `reps` runs after one warm-up, in milliseconds."
    fn()
    if cuda: torch.cuda.synchronize()
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter(); fn()
        if cuda: torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    from matrix_nb.percep.ops import (boxes_iou_bev, codebook_assign, codebook_assign_ref, nms_rotated,
                                      scatter_pillars, scatter_pillars_ref, triton_available)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    kernels = cuda and triton_available()
    if not kernels:
        print("percep_ops: no CUDA device (or no Triton): Triton kernels need a GPU for real timings; "
              "timing the PyTorch references only")
    g = torch.Generator().manual_seed(0)
    A, C, H, W, P = 4, 64, 200, 704, 70_000
    lin = torch.randperm(A * H * W, generator=g)[:P]
    coords = torch.stack([lin // (H * W), (lin // W) % H, lin % W], 1).to(dev)
    feats = torch.randn(P, C, generator=g).to(dev)
    cb = torch.randn(256, 32, generator=g).to(dev)
    x = torch.randn(2 * 35_200, 32, generator=g).to(dev)
    boxes = torch.cat([torch.rand(500, 2, generator=g) * 100, torch.zeros(500, 1), 3 + torch.rand(500, 3, generator=g),
                       torch.rand(500, 1, generator=g) * 6.28], 1).to(dev)
    scores = torch.rand(1000, generator=g).to(dev)
    res = {"scatter_ref_ms": best_ms(lambda: scatter_pillars_ref(feats, coords, A, (H, W)), a.reps, cuda),
           "assign_ref_ms": best_ms(lambda: codebook_assign_ref(x, cb), a.reps, cuda),
           "iou_ref_ms": best_ms(lambda: boxes_iou_bev(boxes, boxes, impl="torch"), a.reps, cuda),
           "nms_ref_ms": best_ms(lambda: nms_rotated(torch.cat([boxes, boxes + 0.3]), scores, 0.15), a.reps, cuda)}
    sp = {"scatter_speedup": "n/a", "assign_speedup": "n/a", "iou_speedup": "n/a"}
    if kernels:
        eq_s = torch.equal(scatter_pillars(feats, coords, A, (H, W), impl="triton"), scatter_pillars_ref(feats, coords, A, (H, W)))
        eq_a = torch.equal(codebook_assign(x, cb, impl="triton"), codebook_assign_ref(x, cb))
        ks = best_ms(lambda: scatter_pillars(feats, coords, A, (H, W), impl="triton"), a.reps, cuda)
        ka = best_ms(lambda: codebook_assign(x, cb, impl="triton"), a.reps, cuda)
        ki = best_ms(lambda: boxes_iou_bev(boxes, boxes, impl="triton"), a.reps, cuda)
        d_iou = float((boxes_iou_bev(boxes, boxes, impl="triton") - boxes_iou_bev(boxes, boxes, impl="torch")).abs().max())
        print(f"kernels vs references: scatter equal {eq_s}, assign equal {eq_a}, iou max diff {d_iou:.2e}; "
              f"kernel ms: scatter {ks:.3f}, assign {ka:.3f}, iou {ki:.3f}")
        sp = {"scatter_speedup": f"{res['scatter_ref_ms'] / ks:.2f}", "assign_speedup": f"{res['assign_ref_ms'] / ka:.2f}",
              "iou_speedup": f"{res['iou_ref_ms'] / ki:.2f}"}
    for k, v in res.items(): print(f"  {k:16s} {v:10.3f}")
    print(f"percep_ops: device={dev.type} scatter_speedup={sp['scatter_speedup']} assign_speedup={sp['assign_speedup']} "
          f"iou_speedup={sp['iou_speedup']} "
          + " ".join(f"{k}={v:.3f}" for k, v in res.items()))


if __name__ == "__main__":
    main()
