"""What the mission's processes share: the plan that does not change during the mission, and each
satellite's state while it runs (transfers under way, training, bytes by kind)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from simsat.hardware.profiles import HardwareProfile
from simsat.mission.faults import FaultSettings
from simsat.mission.imagery import ImageCodec
from simsat.mission.isl import IslPlan
from simsat.mission.packets import ImageryPacket, UpdatePacket, UplinkPacket
from simsat.mission.plan import WorldPlan
from simsat.mission.transport import TrainOrder
from simsat.world.links import Transfer
from simsat.world.power import Battery

BYTE_KINDS = {"up": ("model", "knowledge"), "down": ("update", "imagery")}


@dataclass(frozen=True)
class ImageryPlan:
    """How satellites acquire and send down their images."""

    share: float  # of each window's downlink time
    capture_per_hour: float  # 0: every image held from the start
    codec: ImageCodec
    edge: int  # the mission's image size (the ground decodes to it)

    def acquired(self, held: int, now_s: float) -> int:
        if self.capture_per_hour <= 0:
            return held
        return min(held, int(self.capture_per_hour * now_s / 3600.0))


@dataclass(frozen=True)
class OperationsPlan:
    """Everything the processes need that does not change during the mission."""

    world: WorldPlan  # contacts, stations, link rates along each pass, antenna policy
    hardware: Sequence[HardwareProfile]  # per satellite
    floor_soc: float
    resume_soc: float
    train_flops_per_image: float  # forward + backward, one image
    epochs: int
    images_held: Sequence[int]  # per satellite
    imagery: ImageryPlan
    semi_ratio: int = 0  # unlabelled images per labelled one (0: no semi-supervised term)
    ground_interval_s: float = 3600.0  # `ground` strategy: how often the ground retrains
    eval_interval_s: float = 0.0  # a new global student is evaluated at most this often (0: every one)
    refine_interval_s: float = 0.0  # the ground refines an aggregated student at most this often (0: every one)
    command_s: float = 0.0  # simulated seconds a satellite's computer takes to answer a command
    refresh_s: Sequence[float] = ()  # simulated times the ground refreshes its teachers
    faults: FaultSettings = FaultSettings()  # injected faults (none by default)
    isl: IslPlan | None = None  # inter-satellite links the federation uses (None: none)
    # the ground station's computer: its trainings take simulated time (None: they take none)
    ground_hardware: HardwareProfile | None = None
    ground_images: int = 0  # the ground's own labelled images (every ground training passes over them)
    refine_epochs: int = 0  # passes of an aggregated student's refinement at the ground

    @property
    def duration_s(self) -> float:
        return self.world.duration_s


@dataclass(frozen=True)
class PlannedTraining:
    """A satellite's next training: its images, or why it does not happen (`skip`), and the
    order its node gets (None when it does not train)."""

    acquired: int
    labelled: int
    unlabelled: int
    skip: str = ""
    order: TrainOrder | None = None


@dataclass
class SatelliteState:
    index: int
    battery: Battery
    model_version: int = -1
    training: bool = False
    update_ready: bool = False
    retrain: bool = False  # the last training gave no update (a fault): train again at the next contact
    # transfer, packet (None: only plane-mates' labels to relay), model bytes
    uplink: tuple[Transfer, UplinkPacket | None, int] | None = None
    downlink: tuple[Transfer, UpdatePacket] | None = None
    imagery: tuple[Transfer, ImageryPacket] | None = None
    bytes: dict[str, int] = field(default_factory=lambda: {k: 0 for d in BYTE_KINDS.values() for k in d})
    images_down: int = 0
    contacts: int = 0
    trainings: int = 0
    train_seconds: float = 0.0
    energy_train_wh: float = 0.0
    train_wall_seconds: float = 0.0


@dataclass
class Clock:
    """Real time spent in the parts of the mission, for the summary."""

    eval_s: float = 0.0
    label_s: float = 0.0
    ground_train_s: float = 0.0
    teacher_refresh_s: float = 0.0
