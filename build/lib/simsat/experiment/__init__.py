"""The centralized distillation experiment (`simsat distill`): teachers, students, rules, seeds, reports."""
