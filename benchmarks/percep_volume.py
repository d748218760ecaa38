"""Communication volume of PragComm's messages: the paper's log2 formula against the real serialized bytes.

Workload (brief §5): first-stage BEV messages at the OPV2V geometry (100 x 352 cells, 64 channels). The confidence
maps come from synthetic scenes (`percep.comm.synthetic_message_maps`): every vehicle a CAV's LiDAR hits is
rasterized in the ego frame, softened and scaled to a peak of 0.95; the features are small ReLU noise plus a bump on
those footprints (`--source random` uses random blobs instead). The selection, the messages and the bytes are the
package's own `Communicator` at inference (random-init codebooks: the byte count does not depend on training).

For each method (dense float, Where2comm-style float cells, PragComm codebook cells) and several thresholds and
codebook sizes it prints, per frame summed over the collaborators and averaged over the scenes: selected cells, the
rate, the formula bytes, the serialized bytes (header + coded positions + payload) and both log2 volumes. Prints, no
asserts. The last line is

  percep_volume: formula_log2=<x> serialized_log2=<y> float_to_codebook_ratio=<z>

for PragComm at the defaults (comm_thre 0.01, request map on, r = 3, m = 2, K = 256): log2 of the mean formula and
serialized bytes per frame, and the serialized bytes of the Where2comm float32 message of the same cells divided by
the serialized bytes of the codebook message.

Run: python benchmarks/percep_volume.py [--scenes 4] [--source scene|random] [--seed 0]
"""
import argparse

import torch


def random_maps(i: int, grid, C: int, seed: int, agents: int = 3, blobs: int = 12):
    "Features and confidences of `agents` agents with random Gaussian blobs (objects)."
    g = torch.Generator().manual_seed(seed * 1000 + i)
    yy, xx = torch.meshgrid(torch.arange(grid.H, dtype=torch.float32), torch.arange(grid.W, dtype=torch.float32), indexing="ij")
    feats, confs = [], []
    for _ in range(agents):
        c = torch.zeros(grid.H, grid.W)
        for _ in range(blobs):
            cy, cx = float(torch.rand(1, generator=g)) * grid.H, float(torch.rand(1, generator=g)) * grid.W
            c = torch.maximum(c, torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0))
        c = (0.95 * c)[None]
        feats.append(torch.relu(0.1 * torch.randn(C, grid.H, grid.W, generator=g)) + c * torch.rand(C, 1, 1, generator=g))
        confs.append(c)
    return torch.stack(feats), torch.stack(confs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=4)
    ap.add_argument("--source", choices=["scene", "random"], default="scene")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels", type=int, default=64)
    a = ap.parse_args()
    from matrix_nb.percep.codebook import Codebook, CodebookConfig
    from matrix_nb.percep.comm import CommConfig, log2_volume, synthetic_message_maps, volume_accounting
    from matrix_nb.percep.geometry import BEVGrid
    grid = BEVGrid().downsample(2)                                                 # OPV2V first-stage map: 100 x 352
    C = a.channels
    maker = synthetic_message_maps if a.source == "scene" else random_maps
    samples = [maker(i, grid, C, a.seed) for i in range(a.scenes)]
    print(f"source={a.source} scenes={a.scenes} map={grid.H}x{grid.W}x{C} agents={[len(s[0]) for s in samples]}")

    torch.manual_seed(a.seed)
    books = {(r, k): Codebook(CodebookConfig(channels=C, stage_sizes=[k] * r)).eval() for r, k in ((1, 4), (1, 16), (2, 64), (3, 256))}
    runs = [("dense", "f32", CommConfig(mode="dense"), None), ("dense", "f16", CommConfig(mode="dense", float_bits=16), None)]
    for thre in (0.01, 0.1, 0.3, 0.6):
        runs.append(("where2comm", f"thre={thre} f32", CommConfig(mode="where2comm", comm_thre=thre), None))
        runs.append(("where2comm", f"thre={thre} f16", CommConfig(mode="where2comm", comm_thre=thre, float_bits=16), None))
        for (r, k), cb in books.items():
            runs.append(("pragcomm", f"thre={thre} r={r} K={k}", CommConfig(mode="pragcomm", comm_thre=thre), cb))
    for thre in (0.1, 0.3):                                                        # the request map's effect
        runs.append(("pragcomm", f"thre={thre} r=3 K=256 no-request", CommConfig(mode="pragcomm", comm_thre=thre, request="none"), books[(3, 256)]))
    runs.append(("pragcomm", "thre=0.6 r=3 K=256 no-prune", CommConfig(mode="pragcomm", comm_thre=0.6, prune=False), books[(3, 256)]))

    print(f"{'method':<11} {'setting':<32} {'cells':>8} {'rate':>8} {'formula_B':>12} {'serial_B':>12} "
          f"{'log2_f':>7} {'log2_s':>7} {'overhead':>9} {'codings'}")
    rows = volume_accounting(samples, {(method, label): (cfg, cb) for method, label, cfg, cb in runs})
    means = {}
    for r in rows:
        (method, label), f_b, s_b = r["setting"], r["formula_bytes"], r["serialized_bytes"]
        over = f"{100 * r['overhead']:8.1f}%" if f_b > 0 else "      n/a"
        print(f"{method:<11} {label:<32} {r['cells']:8.1f} {r['rate']:8.4f} {f_b:12.1f} {s_b:12.1f} "
              f"{r['log2_formula']:7.2f} {r['log2_serialized']:7.2f} {over} {r['codings']}")
        means[(method, label)] = (f_b, s_b)
    f_b, s_b = means[("pragcomm", "thre=0.01 r=3 K=256")]
    w_b = means[("where2comm", "thre=0.01 f32")][1]
    ratio = w_b / s_b if s_b > 0 else float("nan")
    full = means[("dense", "f32")][1]
    print(f"full float map per frame {full:.0f} B; PragComm default {s_b:.1f} B serialized "
          f"({full / s_b if s_b else float('nan'):.0f}x smaller), formula {f_b:.1f} B")
    lf, ls = log2_volume(f_b), log2_volume(s_b)
    print(f"percep_volume: formula_log2={lf:.2f} serialized_log2={ls:.2f} float_to_codebook_ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
