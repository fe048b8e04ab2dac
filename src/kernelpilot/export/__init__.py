"""Shipping promoted kernels: `kernelpilot task export` into the kda_kernels package, and the SGLang patch."""
