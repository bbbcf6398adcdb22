"""Data: the synthetic EO dataset, EuroSAT from a folder, and mission splits (numpy only)."""

from simsat.data.eurosat import load_eurosat, load_eurosat_splits
from simsat.data.imageset import ImageSet, MissionData
from simsat.data.partition import (
    partition_dirichlet,
    partition_iid,
    split_mission,
    split_mission_from_splits,
    synthetic_imageset,
    synthetic_mission,
)
from simsat.data.synthetic import CLASS_NAMES, SyntheticNuisance, generate_synthetic, synthetic_labels

__all__ = [
    "CLASS_NAMES",
    "ImageSet",
    "MissionData",
    "SyntheticNuisance",
    "generate_synthetic",
    "load_eurosat",
    "load_eurosat_splits",
    "partition_dirichlet",
    "partition_iid",
    "split_mission",
    "split_mission_from_splits",
    "synthetic_imageset",
    "synthetic_labels",
    "synthetic_mission",
]
