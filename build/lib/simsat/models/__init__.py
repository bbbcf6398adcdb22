"""Student ResNets, teacher construction, input normalisation and model cost."""
