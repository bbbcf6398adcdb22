"""Built-in hardware profiles with the sources of their numbers.

Effective training rates are assumptions: ~10 % of FP32 peak for embedded GPUs and
~30 % of measured LINPACK for CPUs, typical of small-batch PyTorch training of small
CNNs. They are not measurements of simsat's students on that hardware.
"""

from __future__ import annotations

from simsat.hardware.profiles import HardwareProfile

_RADIO = (
    " Radio: S-band CubeSat transceiver class, ~4 W DC while transmitting and ~0.5 W"
    " receiving (typical datasheet range 2-6 W / 0.3-1 W; an assumption, not one unit)."
)


def builtin_profiles() -> dict[str, HardwareProfile]:
    """A fresh dict of the built-in profiles keyed by name."""
    profiles = [
        HardwareProfile(
            name="jetson_nano_5w",
            description=(
                "NVIDIA Jetson Nano 4 GB in its 5 W power mode (GPU capped at 640 MHz):"
                " 128 Maxwell CUDA cores x 2 FLOP x 0.64 GHz = 164 GFLOPS FP32 peak"
                " (NVIDIA datasheet: 472 GFLOPS FP16 at 921 MHz). Effective training rate"
                " taken as 10 % of FP32 peak = 16 GFLOP/s. Idle ~1.25 W (module, measured"
                " by community benchmarks); busy = 5 W mode budget." + _RADIO
            ),
            flops_per_s=1.6e10,
            idle_w=1.25,
            busy_w=5.0,
            memory_mb=4096.0,
            radio_tx_w=4.0,
            radio_rx_w=0.5,
        ),
        HardwareProfile(
            name="jetson_nano_10w",
            description=(
                "NVIDIA Jetson Nano 4 GB in its 10 W (MAXN) mode, GPU at 921.6 MHz:"
                " 128 x 2 x 0.9216 GHz = 236 GFLOPS FP32 peak (472 GFLOPS FP16, NVIDIA"
                " datasheet). Effective training rate 10 % of FP32 peak = 24 GFLOP/s."
                " Idle ~1.25 W; busy = 10 W mode budget." + _RADIO
            ),
            flops_per_s=2.4e10,
            idle_w=1.25,
            busy_w=10.0,
            memory_mb=4096.0,
            radio_tx_w=4.0,
            radio_rx_w=0.5,
        ),
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
        ),
    ]
    return {p.name: p for p in profiles}
