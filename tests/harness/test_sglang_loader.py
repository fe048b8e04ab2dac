"""The by-path SGLang loader on a real wheel file: packages stay bare, and the helpers kernel files import from the
serving stack come from stand-ins. Each load runs in its own process (the loader installs an import hook)."""

import subprocess
import sys
import zipfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# A kernel file that imports its helpers the way SGLang 0.5.12's JIT kernels do, and a package __init__ that
# would pull in the server if the loader ran it.
KERNEL = '''
from sglang.utils import is_in_ci
from sglang.srt.utils.custom_op import register_custom_op


@register_custom_op(mutates_args=["q"])
def kernel(q):
    return ("ci" if is_in_ci() else "not ci", q)
'''

# A Triton GEMM file that imports its helpers the way SGLang 0.5.23's kernels/ops/gemm/fp8_kernel.py does, from
# packages its wheel does not ship.
GEMM_KERNEL = '''
from sglang.srt.layers import deep_gemm_wrapper
from sglang.srt.runtime_context import get_platform
from sglang.srt.utils import get_device_core_count, get_device_name, is_cuda, is_gfx1250_supported, is_hip
from sglang.srt.utils import log_info_on_rank0


def kernel(q):
    return (is_cuda(), is_hip(), is_gfx1250_supported(), get_platform().is_cuda(), q)
'''


# A JIT kernel file that imports a name its package's __init__ re-exports, as SGLang 0.5.23's qknorm_rope_jit.py does.
JIT_KERNEL = '''
from sglang.kernels import jit  # a submodule, taken from a package whose __init__ fails
from sglang.kernels.jit.utils import cache_once
from sglang.srt.utils.common import get_cuda_version


@cache_once
def kernel(q):
    return (len(get_cuda_version()) >= 2, q)
'''


def _wheel(folder: Path, version: str) -> Path:
    path = folder / f"sglang-{version}-cp311-cp311-manylinux_2_34_x86_64.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sglang/__init__.py", "raise ImportError('the serving stack must not be imported')\n")
        archive.writestr("sglang/jit_kernel/__init__.py", "raise ImportError('package __init__ ran')\n")
        archive.writestr("sglang/jit_kernel/diffusion/kernel.py", KERNEL)
        archive.writestr("sglang/kernels/ops/gemm/fp8_kernel.py", GEMM_KERNEL)
        archive.writestr("sglang/kernels/__init__.py", "raise ImportError('package __init__ ran')\n")
        archive.writestr("sglang/kernels/jit/utils/__init__.py", "from sglang.kernels.jit.utils.common import *\n")
        archive.writestr("sglang/kernels/jit/utils/common.py", "def cache_once(function):\n    return function\n")
        archive.writestr("sglang/kernels/ops/diffusion/rope/qknorm_rope_jit.py", JIT_KERNEL)
    return path


def _load(wheels: Path, version: str, reference: str) -> subprocess.CompletedProcess:
    script = ("from kernelpilot.harness.sglang import load_function\n"
              f"loaded = load_function({version!r}, {reference!r})\n"
              "print(loaded.function(7), loaded.file, len(loaded.sha256))\n")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(SRC), "KERNELPILOT_WHEELS": str(wheels), "PATH": "/usr/bin:/bin"})


def test_a_kernel_importing_sglang_utils_loads_from_the_wheel_with_stand_ins(tmp_path):
    _wheel(tmp_path, "0.5.12")
    result = _load(tmp_path, "0.5.12", "sglang/jit_kernel/diffusion/kernel.py:kernel")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["('not", "ci',", "7)", "sglang/jit_kernel/diffusion/kernel.py", "64"]


def test_a_missing_function_is_one_line_naming_it(tmp_path):
    _wheel(tmp_path, "0.5.12")
    result = _load(tmp_path, "0.5.12", "sglang/jit_kernel/diffusion/kernel.py:absent")
    assert result.returncode != 0
    assert "has no function 'absent'" in result.stderr.strip().splitlines()[-1]


def test_a_gemm_importing_serving_helpers_loads_from_the_wheel_with_stand_ins(tmp_path):
    _wheel(tmp_path, "0.5.23")
    result = _load(tmp_path, "0.5.23", "sglang/kernels/ops/gemm/fp8_kernel.py:kernel")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:5] == ["(True,", "False,", "False,", "True,", "7)"]


def test_a_package_init_runs_only_when_a_kernel_asks_it_for_a_name(tmp_path):
    """sglang.kernels' __init__ (which raises here) never runs; sglang.kernels.jit.utils' re-exports do."""
    _wheel(tmp_path, "0.5.23")
    result = _load(tmp_path, "0.5.23", "sglang/kernels/ops/diffusion/rope/qknorm_rope_jit.py:kernel")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["(True,", "7)"]
