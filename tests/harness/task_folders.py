"""Task folders the harness tests run on, importable by name (a conftest's values are not: under
--import-mode=importlib `from conftest import ...` finds whichever conftest comes first on sys.path)."""

from pathlib import Path

NORM_TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_norm_infer__multi_shape"
