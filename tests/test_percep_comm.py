"""PragComm communication across modules: the volume benchmark's output, and the codebook messages on a GPU (where
encoding runs the Triton assignment kernel) decoding to exactly what fusion used."""
import re
import subprocess
import sys

import pytest
import torch

from conftest import ROOT


def test_volume_benchmark_last_line():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "percep_volume.py"), "--scenes", "1", "--source", "random"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    last = r.stdout.strip().splitlines()[-1]
    m = re.fullmatch(r"percep_volume: formula_log2=([-\d.]+) serialized_log2=([-\d.]+) float_to_codebook_ratio=([\d.]+)", last)
    assert m, last
    f, s, ratio = map(float, m.groups())
    assert s > f                       # the header and the cell positions cost bytes the formula does not count
    assert 20 < ratio < 256 / 6        # float32 cells (256 B) vs 6 B codebook cells, both plus the same overheads


@pytest.mark.gpu
def test_codebook_messages_on_gpu_decode_exactly():
    from matrix_nb.percep.codebook import Codebook, CodebookConfig
    from matrix_nb.percep.comm import CommConfig, Communicator, Message, map_from_message
    torch.manual_seed(0)
    cb = Codebook(CodebookConfig()).cuda().eval()
    feats = torch.relu(torch.randn(3, 64, 100, 352, device="cuda"))
    conf = torch.rand(3, 1, 100, 352, device="cuda") ** 4
    with torch.no_grad():
        out, st = Communicator(CommConfig(mode="pragcomm", comm_thre=0.2), cb).eval()(feats, conf)
        assert st["cells"] > 0
        for j, buf in st["messages"].items():
            assert torch.equal(map_from_message(Message.from_bytes(buf, st["format"]), cb, device="cuda"), out[j])
        cpu = Codebook(CodebookConfig()).eval(); cpu.load_state_dict({k: v.cpu() for k, v in cb.state_dict().items()})
        sel = st["masks"][1].reshape(-1)
        x = feats[1].reshape(64, -1)[:, sel].T
        agree = (cb.encode(x).cpu() == cpu.encode(x.cpu())).float().mean()
    assert agree > 0.999, agree        # Triton kernel vs CPU reference: equal up to float near-ties
