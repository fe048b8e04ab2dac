"""What a compiled kernel costs an SM, read from its cubin on the CPU: registers per thread, local memory (spills),
shared memory, and the occupancy those allow on the target arch.

A memory-bound kernel needs enough bytes in flight to cover DRAM latency, each thread moving 16 bytes an access;
too many registers per thread cap the warps an SM holds, and with them the loads in flight, and an access the
compiler could not prove aligned is split into narrower ones. The figures here come from the compiler's own output
(`cuobjdump -res-usage -sass` on the cubin Triton built: the counts ptxas reports, and the global load and
store instructions by width, counted in the code, not as executed), so a register-bound tile policy, a spill or a
load that lost its vector width shows up in `task compile` without a GPU. A digest of the instructions tells
whether a refactor left the compiled code as it was (and with it every timing measured before).

The instructions are counted too, as written (the whole kernel, and the body of its largest loop, the span a
backward branch jumps over): an SM issues one warp instruction a cycle on each of its 4 schedulers, so a row's
instructions times its warps, over the SMs' issue rate, is a floor under the run time that no occupancy lifts. A
norm kernel near the copy ceiling's time in that floor is issue-bound, not memory-bound.

The global loads written after the kernel's first exchange between threads (a warp shuffle or a barrier) are
counted as well: that exchange waits for the values it moves, usually loaded ones, so in straight-line code a
load written after it starts its round trip only once an earlier one has ended. Triton puts barriers where a
value changes layout through shared memory (a weight vector broadcast into a 2-D tile), and ptxas schedules a
row reduction's shuffles ahead of loads whose values are needed only after it; a latency-bound kernel with
independent loads behind either pays a memory round trip more than it needs to.

Occupancy follows CUDA's occupancy calculator for the limits of compute capability 9.x and 10.x: registers are
allocated per warp in units of 256, warps in groups of 4; an SM holds 64 warps, 32 blocks, 64K registers and
228 KB of shared memory, of which the driver reserves 1 KB per block.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

WARP = 32
REGISTERS_PER_SM = 65536
REGISTER_UNIT = 256  # registers are handed to a warp in units of this many
WARP_GROUP = 4  # ... and warps to an SM in groups of this many
MAX_WARPS_PER_SM = 64
MAX_BLOCKS_PER_SM = 32
SHARED_PER_SM = 233472  # 228 KB on sm_90 and sm_100
RESERVED_SHARED_PER_BLOCK = 1024

_USAGE = re.compile(r"REG:(\d+)\s+STACK:(\d+)\s+SHARED:(\d+)\s+LOCAL:(\d+)")
_ADDRESSED = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s*([^;]*);", re.MULTILINE)
_BRANCH_TARGET = re.compile(r"\bBRA\b.*\b0x([0-9a-f]+)\s*$")
_GLOBAL_ACCESS = re.compile(r"\b(LDG|STG)((?:\.[A-Z0-9_]+)*)")
_EXCHANGE = re.compile(r"\b(?:BAR|SHFL)\.")
_GLOBAL_LOAD = re.compile(r"\bLDG\b")
_WIDTH_SUFFIXES = {"128": 128, "64": 64, "U16": 16, "S16": 16, "U8": 8, "S8": 8}


@dataclass(frozen=True)
class KernelResources:
    kernel: str
    warps: int  # per block
    registers: int  # per thread
    local_bytes: int  # per thread: spills and local arrays, served from L1/L2/DRAM
    shared_bytes: int  # per block, static + dynamic (the driver's reserved KB counted once)
    resident_warps: int  # per SM, under all limits below
    limited_by: str  # "registers", "shared memory", "warps" or "blocks"
    global_loads: dict[int, int]  # bits an access -> load instructions in the code
    global_stores: dict[int, int]
    instructions: int  # in the code, as written
    loop_instructions: int  # in the largest loop's body (0: straight-line code), issued once an iteration
    late_loads: int  # global loads written after the first shuffle or barrier
    sass_digest: str  # of the instructions alone (no addresses, encodings or header)

    @property
    def occupancy(self) -> float:
        return self.resident_warps / MAX_WARPS_PER_SM

    def as_dict(self) -> dict:
        """The JSON form, widths keyed by string as JSON keys them."""
        return {**asdict(self), "occupancy": round(self.occupancy, 4),
                "global_loads": {str(bits): n for bits, n in self.global_loads.items()},
                "global_stores": {str(bits): n for bits, n in self.global_stores.items()}}


def cubin_listing(cubin: bytes) -> str:
    """Triton's own cuobjdump on the cubin: its resource line and its SASS."""
    from triton import knobs

    with tempfile.TemporaryDirectory(prefix="kernelpilot-cubin-") as scratch:
        path = Path(scratch) / "kernel.cubin"
        path.write_bytes(cubin)
        return subprocess.run([knobs.nvidia.cuobjdump.path, "-res-usage", "-sass", str(path)], capture_output=True,
                              text=True, check=True).stdout


def usage(listing: str) -> tuple[int, int, int, int]:
    """(registers, stack bytes, static shared bytes, local bytes) of the one kernel in a cubin's listing."""
    match = _USAGE.search(listing)
    if match is None:
        raise ValueError(f"cuobjdump printed no resource line for the cubin: {listing.strip()[:200]!r}")
    registers, stack, static_shared, local = (int(g) for g in match.groups())
    return registers, stack, static_shared, local


def sass_digest(sass: str) -> str:
    """12 hex digits that change exactly when an instruction of the listing does."""
    return hashlib.sha256("\n".join(text for _, text in _ADDRESSED.findall(sass)).encode()).hexdigest()[:12]


def instruction_counts(sass: str) -> tuple[int, int]:
    """(instructions, instructions in the largest loop body) of a SASS listing; a loop body runs from a backward
    branch's target to the branch (a branch to itself, the listing's closing trap, is no loop)."""
    addressed = [(int(address, 16), text) for address, text in _ADDRESSED.findall(sass)]
    largest_loop = 0
    for address, text in addressed:
        target = _BRANCH_TARGET.search(text)
        if target and int(target.group(1), 16) < address:
            start = int(target.group(1), 16)
            largest_loop = max(largest_loop, sum(1 for at, _ in addressed if start <= at <= address))
    return len(addressed), largest_loop


def late_loads(sass: str) -> int:
    """Global load instructions that come after the listing's first shuffle or barrier (none without one)."""
    texts = [text for _, text in _ADDRESSED.findall(sass)]
    first = next((index for index, text in enumerate(texts) if _EXCHANGE.search(text)), len(texts))
    return sum(1 for text in texts[first:] if _GLOBAL_LOAD.search(text))


def access_widths(sass: str) -> tuple[dict[int, int], dict[int, int]]:
    """Global load and store instructions in SASS, counted by bits an access (32 where no width suffix)."""
    loads: dict[int, int] = {}
    stores: dict[int, int] = {}
    for opcode, suffixes in _GLOBAL_ACCESS.findall(sass):
        bits = next((_WIDTH_SUFFIXES[s] for s in suffixes.split(".") if s in _WIDTH_SUFFIXES), 32)
        counts = loads if opcode == "LDG" else stores
        counts[bits] = counts.get(bits, 0) + 1
    return loads, stores


def resident_warps(warps: int, registers: int, shared_bytes: int) -> tuple[int, str]:
    """Warps an SM holds of a kernel with these per-block warps, per-thread registers and per-block shared memory,
    and the limit that binds first."""
    registers_per_warp = -(-registers * WARP // REGISTER_UNIT) * REGISTER_UNIT
    warps_by_registers = REGISTERS_PER_SM // registers_per_warp // WARP_GROUP * WARP_GROUP
    limits = {  # the SM's fixed ceilings first, so that a tie names them rather than the kernel's choices
        "warps": MAX_WARPS_PER_SM // warps,
        "blocks": MAX_BLOCKS_PER_SM,
        "registers": warps_by_registers // warps,
        "shared memory": SHARED_PER_SM // shared_bytes,
    }
    binding = min(limits, key=limits.get)
    return limits[binding] * warps, binding


def of_compiled(compiled) -> KernelResources:
    """The resources of a kernel Triton compiled (a CompiledKernel, whether or not a GPU could load it)."""
    listing = cubin_listing(compiled.asm["cubin"])
    registers, stack, static_shared, local = usage(listing)
    warps = compiled.metadata.num_warps
    shared = compiled.metadata.shared + max(static_shared, RESERVED_SHARED_PER_BLOCK)
    resident, binding = resident_warps(warps, registers, shared)
    loads, stores = access_widths(listing)
    instructions, loop_instructions = instruction_counts(listing)
    return KernelResources(kernel=compiled.metadata.name, warps=warps, registers=registers,
                           local_bytes=max(local, stack), shared_bytes=shared, resident_warps=resident,
                           limited_by=binding, global_loads=loads, global_stores=stores,
                           instructions=instructions, loop_instructions=loop_instructions,
                           late_loads=late_loads(listing),
                           sass_digest=sass_digest(listing))
