

def _install_kda_kernels():
    """Swap in KernelPilot's exported kernels when the kda_kernels package is present; never break `import sglang`."""
    try:
        import kda_kernels

        kda_kernels.install()
    except Exception as error:
        if not (isinstance(error, ModuleNotFoundError) and error.name == "kda_kernels"):
            import logging

            logging.getLogger(__name__).warning("kda_kernels not installed, SGLang runs its own kernels: %r", error)


_install_kda_kernels()
del _install_kda_kernels
