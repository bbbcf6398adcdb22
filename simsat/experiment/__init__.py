"""The experiments.

The centralized distillation experiment (`simsat distill`): teachers, students, rules, seeds,
reports (`central`, `data`, `student`, `views`, `report`); the same experiment in resumable pieces
(`pieces`, `schedules`), its best students' 8-view scores (`best_views`) and ablation tables
(`kd_table`); the central semi-supervised probe (`semi_probe`); and the federated EuroSAT grid on
the sweep machinery (`federated_grid`, `federated_run`, `federated_records`, `federated_report`).
The bench/ scripts are command lines over these modules.
"""
