"""PragComm Triton kernels on a real GPU (skipped without CUDA; on CPU they are checked in nbs/53a_percep.kernels
under TRITON_INTERPRET=1)."""
import pytest
import torch


@pytest.mark.gpu
def test_kernels_equal_references_on_gpu():
    from matrix_nb.percep.kernels import check_kernels
    res = check_kernels("cuda")
    assert res["all_equal"], res


@pytest.mark.gpu
def test_dispatch_uses_kernels_on_cuda():
    from matrix_nb.percep.ops import use_kernel
    assert use_kernel(torch.zeros(1, device="cuda")) and not use_kernel(torch.zeros(1))
