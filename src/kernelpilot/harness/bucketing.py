"""Shape buckets, shared by the harness's performance map and every dispatcher it generates, the exported
kda_kernels dispatchers among them: keep this module free of imports, since those load it at serving time."""


def bucket_key(values):
    """Shape bucket of one call: first tensor's dtype, last dim, log2 of its row count, and the boolean flags."""
    first = next(v for v in values.values() if hasattr(v, "shape") and hasattr(v, "dtype"))
    last = first.shape[-1] if len(first.shape) else 1
    rows = first.numel() // last if last else 0
    flags = "".join("1" if v else "0" for v in values.values() if isinstance(v, bool))
    return f"{str(first.dtype).replace('torch.', '')}:{last}:r{rows.bit_length()}:{flags}"


def nearest_bucket(table, key):
    """The bucket of the same dtype, last dim and flags whose row count is closest; None when there is none."""
    dtype, last, rows, flags = key.split(":")
    same = [k for k in table if k.split(":")[0] == dtype and k.split(":")[1] == last and k.split(":")[3] == flags]
    if not same:
        return None
    return min(same, key=lambda k: abs(int(k.split(":")[2][1:]) - int(rows[1:])))

