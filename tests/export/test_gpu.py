"""End to end on a GPU: after install(), SGLang's own norm_infer entry point runs our kernel and matches R; after
uninstall(), SGLang's original runs again. Each release's module is loaded by path from its wheel."""

import importlib.util

import pytest
import torch

import kda_kernels
from kda_kernels._routing import ARCH_OF_CAPABILITY
from kernelpilot.export.sglang_patch import exported_layouts
from kernelpilot.harness.spec import load_task

pytestmark = pytest.mark.gpu

# (function, arguments): a bucket our kernel won, one a baseline won, and the second function.
CALLS = [
    ("norm_infer", lambda: (torch.randn(4096, 3072, device="cuda", dtype=torch.bfloat16),
                            torch.randn(3072, device="cuda", dtype=torch.bfloat16),
                            torch.randn(3072, device="cuda", dtype=torch.bfloat16), 1e-6, False)),
    ("norm_infer", lambda: (torch.randn(40, 200, device="cuda"), torch.randn(200, device="cuda"), None, 1e-5, False)),
    ("triton_one_pass_rms_norm", lambda: (torch.randn(2, 648, 128, device="cuda", dtype=torch.bfloat16),
                                          torch.randn(128, device="cuda", dtype=torch.bfloat16), 1e-6)),
]


@pytest.mark.parametrize("version", exported_layouts())
def test_sglang_entry_point_runs_our_kernel_until_uninstall(version, sglang_releases, sglang_function,
                                                           by_name_importer, family, norm_task, committed_route):
    task = load_task(norm_task)
    reference = _module(norm_task / "reference.py")
    arch = ARCH_OF_CAPABILITY.get(torch.cuda.get_device_capability())
    loaded = {name: sglang_function(version, name) for name in {call[0] for call in CALLS}}
    call_sites = {name: by_name_importer(f"kda_test_importer_{name}", module.__name__, name)
                  for name, (module, _) in loaded.items()}

    report = kda_kernels.install()
    assert report["sglang"] == version
    for function, make_arguments in CALLS:
        module, original = loaded[function]
        entry = getattr(module, function)
        assert entry is getattr(family, function) and getattr(call_sites[function], function) is entry
        arguments = make_arguments()
        before = _routes(function)
        _assert_matches_reference(task, reference, function, arguments, entry(*arguments))
        route = committed_route(arch, function, arguments)
        assert _routes(function).get(route, 0) == before.get(route, 0) + 1, (function, route, _routes(function))

    kda_kernels.uninstall()
    for function, make_arguments in CALLS:
        module, original = loaded[function]
        assert getattr(module, function) is original and getattr(call_sites[function], function) is original
        arguments = make_arguments()
        _assert_matches_reference(task, reference, function, arguments, getattr(module, function)(*arguments))
        assert _routes(function) == {}


def _routes(function: str) -> dict:
    return next(r["routes"] for r in kda_kernels.status()["functions"] if r["function"].endswith(f".{function}"))


def _assert_matches_reference(task, reference, function, arguments, result):
    x = arguments[0]
    expected = getattr(reference, function)(*[a.double() if isinstance(a, torch.Tensor) else a for a in arguments])
    bounds = task.bounds(str(x.dtype).replace("torch.", ""))
    assert result.dtype == x.dtype and result.shape == x.shape
    error = (result.double() - expected).norm() / expected.norm()
    assert error <= bounds["rel"] and (result.double() - expected).abs().max() <= bounds["abs"], (function, error)


def _module(path):
    spec = importlib.util.spec_from_file_location("kda_test_gpu_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
