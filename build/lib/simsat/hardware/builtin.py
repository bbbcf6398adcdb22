"""Built-in hardware profiles with the sources of their numbers.

Effective training rates are assumptions: ~10 % of FP32 peak for embedded GPUs and
~30 % of measured LINPACK for CPUs, typical of small-batch PyTorch training of small
CNNs. They are not measurements of simsat's students on that hardware; replace them by a
measurement with ``simsat hardware calibrate`` on the board itself.
"""

from __future__ import annotations

from simsat.hardware.profiles import HardwareProfile

_RADIO = (
    " Radio: S-band CubeSat transceiver class, ~4 W DC while transmitting and ~0.5 W"
    " receiving (typical datasheet range 2-6 W / 0.3-1 W; an assumption, not one unit)."
)
_RADIO_SOURCES = {
    "radio_tx_w": "S-band CubeSat transceiver class, typical datasheet range 2-6 W DC transmitting (assumption)",
    "radio_rx_w": "S-band CubeSat transceiver class, typical datasheet range 0.3-1 W receiving (assumption)",
}
_NO_INFERENCE = "not given: the training rate is used for forward passes"


def _jetson_nano(mode_w: float, clock_ghz: float, mode: str) -> HardwareProfile:
    peak = 128 * 2 * clock_ghz  # GFLOPS FP32: 128 Maxwell CUDA cores, one FMA per cycle
    rate = round(peak * 0.1) * 1e9
    return HardwareProfile(
        name=f"jetson_nano_{mode_w:.0f}w",
        description=(
            f"NVIDIA Jetson Nano 4 GB in its {mode}, GPU at {clock_ghz * 1000:.0f} MHz:"
            f" 128 Maxwell CUDA cores x 2 FLOP x {clock_ghz} GHz = {peak:.0f} GFLOPS FP32 peak"
            f" (NVIDIA datasheet: 472 GFLOPS FP16 at 921 MHz). Effective training rate"
            f" taken as 10 % of FP32 peak = {rate / 1e9:.0f} GFLOP/s. Idle ~1.25 W (module,"
            f" community measurements); busy = {mode_w:.0f} W mode budget." + _RADIO
        ),
        flops_per_s=rate,
        idle_w=1.25,
        busy_w=mode_w,
        memory_mb=4096.0,
        radio_tx_w=4.0,
        radio_rx_w=0.5,
        sources={
            "flops_per_s": (
                f"assumption: 10 % of the FP32 peak 128 cores x 2 FLOP x {clock_ghz} GHz"
                f" = {peak:.0f} GFLOPS (NVIDIA Jetson Nano datasheet)"
            ),
            "inference_flops_per_s": _NO_INFERENCE,
            "idle_w": "Jetson Nano module idle power, community measurements (~1.25 W)",
            "busy_w": f"the {mode} power budget (NVIDIA nvpmodel)",
            "memory_mb": "4 GB LPDDR4 shared by CPU and GPU (NVIDIA datasheet)",
            **_RADIO_SOURCES,
        },
    )


def builtin_profiles() -> dict[str, HardwareProfile]:
    """A fresh dict of the built-in profiles keyed by name."""
    profiles = [
        _jetson_nano(5.0, 0.64, "5 W power mode"),
        _jetson_nano(10.0, 0.9216, "10 W (MAXN) mode"),
        HardwareProfile(
            name="jetson_orin_nano",
            description=(
                "NVIDIA Jetson Orin Nano 8 GB, 15 W mode: 1024 Ampere CUDA cores at 625 MHz"
                " = 1.28 TFLOPS FP32 peak (NVIDIA module datasheet; 40 TOPS INT8 sparse)."
                " Effective training rate 10 % of FP32 peak = 128 GFLOP/s. Idle ~3 W"
                " (module, assumption); busy = 15 W mode budget (7 W mode also exists)." + _RADIO
            ),
            flops_per_s=1.28e11,
            idle_w=3.0,
            busy_w=15.0,
            memory_mb=8192.0,
            radio_tx_w=4.0,
            radio_rx_w=0.5,
            sources={
                "flops_per_s": (
                    "assumption: 10 % of the FP32 peak 1024 cores x 2 FLOP x 0.625 GHz = 1.28 TFLOPS"
                    " (NVIDIA Jetson Orin Nano module datasheet)"
                ),
                "inference_flops_per_s": _NO_INFERENCE,
                "idle_w": "assumption (~3 W module idle)",
                "busy_w": "the 15 W power mode budget (NVIDIA nvpmodel)",
                "memory_mb": "8 GB LPDDR5 shared by CPU and GPU (NVIDIA datasheet)",
                **_RADIO_SOURCES,
            },
        ),
        HardwareProfile(
            name="myriad_x",
            description=(
                "Intel Movidius Myriad X class VPU (e.g. Neural Compute Stick 2, 512 MB"
                " LPDDR4): ~1 TOPS FP16 on its neural compute engine at ~1-1.5 W (Intel);"
                " its predecessor Myriad 2 flew on ESA's Phi-Sat-1 (~1 TFLOPS FP16 at ~0.6 W)."
                " The VPU is built for inference; training on it is hypothetical, modelled"
                " as 2 % of peak = 20 GFLOP/s. Idle 0.3 W (sleep figure as in CosmicBeats);"
                " busy 1.5 W." + _RADIO
            ),
            flops_per_s=2.0e10,
            idle_w=0.3,
            busy_w=1.5,
            memory_mb=512.0,
            radio_tx_w=4.0,
            radio_rx_w=0.5,
            sources={
                "flops_per_s": (
                    "assumption: 2 % of ~1 TOPS FP16 (Intel Myriad X product brief); training on a VPU is hypothetical"
                ),
                "inference_flops_per_s": _NO_INFERENCE,
                "idle_w": "sleep power as assumed by CosmicBeats (0.3 W)",
                "busy_w": "Intel: ~1-1.5 W for the Myriad X; upper end taken",
                "memory_mb": "512 MB LPDDR4 in package (Neural Compute Stick 2)",
                **_RADIO_SOURCES,
            },
        ),
        HardwareProfile(
            name="raspberry_pi4",
            description=(
                "Raspberry Pi 4 Model B 4 GB: 4x Cortex-A72 at 1.5 GHz, ~13.5 GFLOPS"
                " measured HPL/LINPACK FP64 (community benchmarks); effective PyTorch CNN"
                " training rate taken as ~30 % of that = 4 GFLOP/s. Board power ~2.7 W idle"
                " and ~6.4 W under full CPU load (published measurements)." + _RADIO
            ),
            flops_per_s=4.0e9,
            idle_w=2.7,
            busy_w=6.4,
            memory_mb=4096.0,
            radio_tx_w=4.0,
            radio_rx_w=0.5,
            sources={
                "flops_per_s": "assumption: ~30 % of ~13.5 GFLOPS HPL/LINPACK (community benchmarks)",
                "inference_flops_per_s": _NO_INFERENCE,
                "idle_w": "published board measurements (~2.7 W idle)",
                "busy_w": "published board measurements (~6.4 W under full CPU load)",
                "memory_mb": "4 GB LPDDR4 model",
                **_RADIO_SOURCES,
            },
        ),
        HardwareProfile(
            name="zynq7020_obc",
            description=(
                "CubeSat onboard computer on a Xilinx Zynq-7020 (dual Cortex-A9 at 667 MHz with NEON,"
                " the SoC of several commercial CubeSat OBCs): ~2.7 GFLOPS FP32 peak (2 cores x 667 MHz"
                " x 2 FLOP/cycle); effective PyTorch CNN training rate taken as ~30 % = 0.8 GFLOP/s."
                " ~1 W idle and ~2.5 W busy (typical OBC datasheet range 1-3 W; an assumption)." + _RADIO
            ),
            flops_per_s=8.0e8,
            idle_w=1.0,
            busy_w=2.5,
            memory_mb=1024.0,
            radio_tx_w=4.0,
            radio_rx_w=0.5,
            sources={
                "flops_per_s": "assumption: ~30 % of ~2.7 GFLOPS FP32 NEON peak (2 x Cortex-A9 at 667 MHz)",
                "inference_flops_per_s": _NO_INFERENCE,
                "idle_w": "assumption: low end of typical Zynq-7020 CubeSat OBC datasheets (1-3 W)",
                "busy_w": "assumption: within typical Zynq-7020 CubeSat OBC datasheets (1-3 W)",
                "memory_mb": "1 GB DDR3, common on Zynq-7020 OBCs",
                **_RADIO_SOURCES,
            },
        ),
    ]
    return {p.name: p for p in profiles}
