"""What this machine is, for logs and benchmark tables: the CPU model and its relevant features.

Timings in this project are only comparable on the same processor, so every benchmark, the
training run log and the evaluation header print ``cpu_description()``. The probe reads
``lscpu`` first (it names virtual CPUs better than /proc/cpuinfo) and falls back to
/proc/cpuinfo, then to ``platform.processor()``.
"""

from __future__ import annotations

import os
import platform
import subprocess

CPUINFO_PATH = "/proc/cpuinfo"
# Vector and matrix extensions that change TensorFlow's speed on a CPU.
RELEVANT_CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
# The ones that compute bfloat16 natively (mixed_bfloat16 pays off only with them).
NATIVE_BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_model():
    """The processor's name, e.g. ``"Intel(R) Xeon(R) Processor"`` (``"unknown CPU"`` if none)."""
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        output = ""
    for line in output.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    try:
        with open(CPUINFO_PATH) as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu_flags(cpuinfo_path=CPUINFO_PATH):
    """The set of feature flags of the first processor in ``cpuinfo_path`` (empty if unreadable).
    """
    try:
        with open(cpuinfo_path) as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def has_native_bf16(cpuinfo_path=CPUINFO_PATH):
    """Whether the CPU computes bfloat16 natively (the AMX or AVX512-BF16 flag)."""
    return bool(cpu_flags(cpuinfo_path) & set(NATIVE_BF16_CPU_FLAGS))


def usable_cpu_count():
    """The logical CPUs this process may run on (its affinity mask, else all of them)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_description(flags=RELEVANT_CPU_FLAGS):
    """``"<model> (<n> CPUs, <flags present>)"``, e.g. ``"Intel(R) Xeon(R) Processor (2 CPUs,
    avx2, avx512f, avx512_bf16, amx_bf16, amx_tile)"``.

    Args:
        flags: the feature flags to list when the processor has them.
    """
    present = [flag for flag in flags if flag in cpu_flags()]
    extras = ", " + ", ".join(present) if present else ""
    return f"{cpu_model()} ({usable_cpu_count()} CPUs{extras})"
