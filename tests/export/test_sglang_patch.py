"""patches/sglang_kda_kernels.patch against the real `__init__.py` of each SGLang release the export targets."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kernelpilot.errors import KernelPilotError
from kernelpilot.export import sglang_patch


@pytest.fixture
def patch_file(repo_root) -> Path:
    return repo_root / "patches" / "sglang_kda_kernels.patch"


def lay_out(root: Path, version: str) -> Path:
    """A git repository holding the release's `__init__.py` at python/sglang/__init__.py, as in SGLang's tree."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    init = root / sglang_patch.INIT
    init.parent.mkdir(parents=True)
    init.write_text(sglang_patch.upstream_init(version))
    return init


def git_apply(root: Path, patch: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "apply", *flags, str(patch)], cwd=root, capture_output=True, text=True)


def test_the_patch_applies_to_every_release_and_reverts_exactly(sglang_releases, patch_file, tmp_path):
    for version in sglang_releases:
        root = tmp_path / version
        init = lay_out(root, version)
        upstream = init.read_text()
        assert git_apply(root, patch_file, "--check").returncode == 0, version
        assert git_apply(root, patch_file).returncode == 0
        patched = init.read_text()
        assert patched.startswith(upstream) and patched[len(upstream):] == sglang_patch.BLOCK
        assert git_apply(root, patch_file, "-R").returncode == 0 and init.read_text() == upstream


def test_regenerating_from_the_releases_writes_the_committed_patch(sglang_releases, patch_file, tmp_path):
    written = sglang_patch.regenerate(sglang_releases, tmp_path / "regenerated.patch")
    assert written.read_text() == patch_file.read_text()


def test_regenerating_refuses_a_release_the_patch_would_not_apply_to(sglang_releases, tmp_path, monkeypatch):
    real = sglang_patch.upstream_init

    def upstream(version):  # the older release's file ends on another line than the newest one's
        return real(version) + ("" if version == sglang_releases[-1] else "# a different last line\n")

    monkeypatch.setattr(sglang_patch, "upstream_init", upstream)
    out = tmp_path / "never.patch"
    with pytest.raises(KernelPilotError, match=f"does not apply to sglang {sglang_releases[0]}"):
        sglang_patch.regenerate(sglang_releases, out)
    assert not out.exists()


# The block that the patch appends, run as the tail of `sglang/__init__.py` in a fresh interpreter.
RUN_BLOCK = textwrap.dedent("""
    import sys
    block = open(sys.argv[1]).read()
    namespace = {"__name__": "sglang"}
    exec(compile(block, "sglang/__init__.py", "exec"), namespace)
    try:
        import kda_kernels
        state = "installed" if kda_kernels.status()["installed"] else "not-installed"
    except ImportError:
        state = "absent"
    print(state, sorted(namespace) == ["__builtins__", "__name__"])
""")


def run_block(tmp_path: Path, path_first: Path | None = None, hide_kda: bool = False) -> subprocess.CompletedProcess:
    block = tmp_path / "block.py"
    block.write_text(sglang_patch.BLOCK)
    source = str(Path(sglang_patch.__file__).parents[2])
    path = [str(path_first)] if path_first else []
    code = f"import sys; sys.path[:0] = {path + [source]!r}\n"
    if hide_kda:
        code += "sys.modules['kda_kernels'] = None  # import kda_kernels now fails as when it is not installed\n"
    code += RUN_BLOCK
    return subprocess.run([sys.executable, "-c", code, str(block)], capture_output=True, text=True, cwd=tmp_path)


def test_the_block_installs_kda_kernels_when_present(tmp_path):
    result = run_block(tmp_path)
    assert result.returncode == 0 and result.stdout.split() == ["installed", "True"], result.stderr


def test_the_block_is_silent_when_kda_kernels_is_absent(tmp_path):
    result = run_block(tmp_path, hide_kda=True)
    assert result.returncode == 0 and result.stdout.split() == ["absent", "True"] and not result.stderr


def test_a_failing_kda_kernels_never_breaks_the_import(tmp_path):
    broken = tmp_path / "broken"
    (broken / "kda_kernels").mkdir(parents=True)
    (broken / "kda_kernels" / "__init__.py").write_text(
        "def install():\n    raise RuntimeError('no CUDA here')\n\n\ndef status():\n    return {'installed': False}\n")
    result = run_block(tmp_path, path_first=broken)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["not-installed", "True"]
    assert "kda_kernels not installed, SGLang runs its own kernels: RuntimeError('no CUDA here')" in result.stderr
