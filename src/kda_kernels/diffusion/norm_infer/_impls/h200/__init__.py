"""The h200 kernels of kda_kernels' norm_infer family, exported by `kernelpilot task export` (do not edit).

From task h200_diffusion_norm_infer__multi_shape at commit ab677e155fc7862b5ecbe6c02d12581f2d4f8af8. MANIFEST holds what the family module and its stamps are written from.
"""

MANIFEST = {
    'task': 'h200_diffusion_norm_infer__multi_shape',
    'arch': 'h200',
    'domain': 'diffusion',
    'family': 'norm_infer',
    'commit': 'ab677e155fc7862b5ecbe6c02d12581f2d4f8af8',
    'date': '2026-12-04T00:41:59Z',
    'run': '20261204T004159Z-c88b44',
    'functions': {
        'norm_infer': {
            'signature': 'norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None)',
            'parameters': ['x', 'weight', 'bias', 'eps', 'is_rms_norm', 'out'],
            'call': 'x, weight, bias, eps, is_rms_norm, out',
            'targets': {
                '0.5.12': 'sglang.jit_kernel.diffusion.triton.norm:norm_infer',
                '0.5.23': 'sglang.kernels.ops.diffusion.norm.norm_triton:norm_infer',
            },
            'optimized': True,
            'speedup': {
                'geomean': 1.4451,
                'device': 'NVIDIA H200',
                'cases': 7,
                'of': 7,
                'over': 'the faster target SGLang baseline of each case',
                'runs': ['20261203T083917Z-d56613', '20261204T002907Z-5dbae1', '20261204T004159Z-c88b44'],
            },
        },
        'triton_one_pass_rms_norm': {
            'signature': 'triton_one_pass_rms_norm(x, w, eps=1e-6)',
            'parameters': ['x', 'w', 'eps'],
            'call': 'x, w, eps',
            'targets': {
                '0.5.12': 'sglang.jit_kernel.diffusion.triton.rmsnorm_onepass:triton_one_pass_rms_norm',
                '0.5.23': 'sglang.kernels.ops.diffusion.norm.rmsnorm_onepass_triton:triton_one_pass_rms_norm',
            },
            'optimized': True,
            'speedup': {
                'geomean': 1.368,
                'device': 'NVIDIA H200',
                'cases': 7,
                'of': 7,
                'over': 'the faster target SGLang baseline of each case',
                'runs': ['20261203T083917Z-d56613', '20261204T002907Z-5dbae1', '20261204T004159Z-c88b44'],
            },
        },
    },
}
