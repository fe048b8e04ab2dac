"""Loading SGLang's kernel modules by path, from a wheel or an installed distribution, without its serving stack.

Importing `sglang` runs its package __init__, which pulls in the whole server. Instead every package on the way to
the wanted module is registered bare (its folder as search path, its __init__ never run), and the few helpers the
kernel files import from elsewhere in SGLang get small stand-ins. Nothing of SGLang is copied into this repository.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import os
import sys
import types
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from kernelpilot.errors import KernelPilotError


def wheel_dir() -> Path:
    """Where `kernelpilot task fetch-baselines` keeps SGLang wheels (KERNELPILOT_WHEELS overrides)."""
    override = os.environ.get("KERNELPILOT_WHEELS")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kernelpilot")) / "wheels"


@dataclass(frozen=True)
class SglangSource:
    version: str
    location: str  # a wheel file, or the site-packages folder that holds an installed `sglang`
    is_wheel: bool

    def read(self, relative: str) -> bytes:
        if self.is_wheel:
            with zipfile.ZipFile(self.location) as archive:
                try:
                    return archive.read(relative)
                except KeyError:
                    raise KernelPilotError(f"sglang {self.version}: {relative} is not in {self.location}") from None
        path = Path(self.location) / relative
        if not path.is_file():
            raise KernelPilotError(f"sglang {self.version}: {relative} is not in {self.location}")
        return path.read_bytes()

    def search_path(self, package_relative: str) -> str:
        return f"{self.location}/{package_relative}" if self.is_wheel else str(Path(self.location) / package_relative)

    def has_file(self, relative: str) -> bool:
        if self.is_wheel:
            return relative in _wheel_files(self.location)
        return (Path(self.location) / relative).is_file()

    def has_package(self, package_relative: str) -> bool:
        if self.is_wheel:
            return package_relative in _wheel_folders(self.location)
        return (Path(self.location) / package_relative).is_dir()


@lru_cache(maxsize=4)
def _wheel_files(wheel: str) -> frozenset[str]:
    with zipfile.ZipFile(wheel) as archive:
        return frozenset(archive.namelist())


@lru_cache(maxsize=4)
def _wheel_folders(wheel: str) -> frozenset[str]:
    folders = set()
    for name in _wheel_files(wheel):  # the archive's listing is read once, for both
        parts = name.split("/")[:-1]
        folders.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return frozenset(folders)


def find_source(version: str) -> SglangSource:
    """An installed sglang of that version, else its wheel in the wheel folder."""
    try:
        installed = importlib.metadata.distribution("sglang")
        if installed.version == version:
            return SglangSource(version, str(installed.locate_file("")), is_wheel=False)
    except importlib.metadata.PackageNotFoundError:
        pass
    folder = wheel_dir()
    wheels = sorted(folder.glob(f"sglang-{version}-*.whl"))
    if not wheels:
        raise KernelPilotError(f"sglang {version} is neither installed nor in {folder} "
                               f"(run `kernelpilot task fetch-baselines`, or set KERNELPILOT_WHEELS)")
    return SglangSource(version, str(wheels[-1]), is_wheel=True)


def _register_custom_op(*args, **kwargs):
    """Stand-in for sglang.srt.utils.custom_op.register_custom_op: the kernel itself, with no torch.library op."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda function: function


class _CudaPlatform:
    """Stand-in for SGLang's current_platform: CUDA, and nothing else."""

    def __getattr__(self, name: str):
        if name.startswith("is_"):
            answer = name in ("is_cuda", "is_cuda_alike")
            return lambda *args, **kwargs: answer
        raise AttributeError(name)


def _cuda_version() -> tuple[int, ...]:
    import torch

    return tuple(int(part) for part in torch.version.cuda.split(".")) if torch.version.cuda else (0, 0)


def _debug_kernel_api(function=None, **kwargs):
    if function is None:
        return lambda inner: inner
    return function


def _device_core_count(device_id: int = 0) -> int:
    import torch

    return torch.cuda.get_device_properties(device_id).multi_processor_count


def _device_name(device_id: int = 0) -> str:
    import torch

    return torch.cuda.get_device_name(device_id)


STAND_INS = {
    "sglang.srt.utils.custom_op": {"register_custom_op": _register_custom_op},
    "sglang.srt.utils": {  # 0.5.23's Triton GEMMs (kernels/ops/gemm/fp8_kernel.py) also ask for the device
        "is_gfx1250_supported": lambda *a, **k: False, "is_cuda": lambda: True, "is_hip": lambda: False,
        "get_device_core_count": _device_core_count, "get_device_name": _device_name,
        "log_info_on_rank0": lambda logger, message: logger.info(message),
    },
    "sglang.srt.utils.common": {"is_cuda": lambda: True, "get_cuda_version": lambda: _cuda_version()},  # 0.5.23 JIT
    "sglang.srt.layers.deep_gemm_wrapper": {},  # DeepGEMM paths are never taken by the kernels timed here
    "sglang.srt.runtime_context": {"get_platform": lambda: _CudaPlatform()},
    "sglang.utils": {"is_in_ci": lambda: False},  # 0.5.12's JIT helpers (sglang/jit_kernel/utils.py)
    "sglang.multimodal_gen.runtime.platforms": {"current_platform": _CudaPlatform()},
    "sglang.kernel_api_logging": {"debug_kernel_api": _debug_kernel_api},
}


class _BareLoader(importlib.abc.Loader):
    """A package without its `__init__` run; with `init_source`, the `__init__` runs the first time a name is asked
    of the package that it does not hold yet (`from sglang.kernels.jit.utils import cache_once` needs the names
    that `__init__` re-exports, while most packages' `__init__` would pull in the serving stack)."""

    def __init__(self, attributes: dict | None = None, init_source: Callable[[], bytes] | None = None):
        self.attributes = attributes or {}
        self.init_source = init_source

    def create_module(self, spec):
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__.update(self.attributes)
        if self.init_source is not None:
            module.__getattr__ = _run_init_on_demand(module, self.init_source)


def _run_init_on_demand(module: types.ModuleType, init_source: Callable[[], bytes]) -> Callable[[str], object]:
    def attribute(name: str) -> object:
        if name.startswith("__"):  # import machinery probes (__path__, __spec__, ...) never run the package
            raise AttributeError(name)
        del module.__getattr__  # once: a name the __init__ does not define stays missing
        code = compile(init_source(), f"{module.__spec__.submodule_search_locations[0]}/__init__.py", "exec")
        try:
            exec(code, module.__dict__)
        except Exception as exc:  # `from package import submodule` asks first: a failing __init__ must not stop it
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r} (its __init__ failed: "
                                 f"{type(exc).__name__}: {exc})") from None
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}") from None
    return attribute


class _SglangFinder(importlib.abc.MetaPathFinder):
    """Serves `sglang.*`: stand-ins first, then packages as bare folders; plain modules load as usual."""

    def __init__(self, source: SglangSource):
        self.source = source

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "sglang" and not fullname.startswith("sglang."):
            return None
        if fullname in STAND_INS:
            spec = importlib.machinery.ModuleSpec(fullname, _BareLoader(STAND_INS[fullname]), is_package=True)
            spec.submodule_search_locations = []
            return spec
        relative = fullname.replace(".", "/")
        if not self.source.has_package(relative) and any(name.startswith(fullname + ".") for name in STAND_INS):
            spec = importlib.machinery.ModuleSpec(fullname, _BareLoader(), is_package=True)
            spec.submodule_search_locations = []  # holds only stand-ins
            return spec
        if self.source.has_package(relative):
            init = f"{relative}/__init__.py"
            has_init = self.source.has_file(init)
            loader = _BareLoader(init_source=(lambda: self.source.read(init)) if has_init else None)
            spec = importlib.machinery.ModuleSpec(fullname, loader, is_package=True)
            spec.submodule_search_locations = [self.source.search_path(relative)]
            return spec
        return None


@dataclass(frozen=True)
class LoadedFunction:
    function: object
    version: str
    file: str
    sha256: str
    location: str


def load_function(version: str, reference: str) -> LoadedFunction:
    """`reference` is 'sglang/path/to/module.py:function'. One SGLang version per process."""
    relative, _, function_name = reference.partition(":")
    source = find_source(version)
    loaded = sys.modules.get("sglang")
    if loaded is not None and getattr(loaded, "__kernelpilot_version__", version) != version:
        raise KernelPilotError(f"sglang {loaded.__kernelpilot_version__} is already loaded in this process; "
                               f"cannot load {version} beside it")
    if not any(isinstance(f, _SglangFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SglangFinder(source))
    module_name = relative[:-3].replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the module's own import-time code runs here, whatever it raises
        raise KernelPilotError(f"sglang {version}: cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    sys.modules["sglang"].__kernelpilot_version__ = version
    function = getattr(module, function_name, None)
    if function is None:
        raise KernelPilotError(f"sglang {version}: {relative} has no function {function_name!r}")
    digest = hashlib.sha256(source.read(relative)).hexdigest()
    return LoadedFunction(function, version, relative, digest, source.location)


def unload() -> None:
    """Forget the SGLang loaded into this process (its modules and finder), so that another version can load."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _SglangFinder)]
    for name in [n for n in sys.modules if n == "sglang" or n.startswith("sglang.")]:
        del sys.modules[name]


def fetch_wheels(versions: list[str]) -> list[Path]:
    """Download the SGLang wheels (no dependencies) into the wheel folder; returns their paths."""
    import subprocess

    folder = wheel_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fetched = []
    for version in versions:
        existing = sorted(folder.glob(f"sglang-{version}-*.whl"))
        if not existing:
            command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                       "--python-version", "3.11", "-d", str(folder), f"sglang=={version}"]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
                raise KernelPilotError(f"cannot download sglang {version}: {last}")
            existing = sorted(folder.glob(f"sglang-{version}-*.whl"))
        fetched.append(existing[-1])
    return fetched
