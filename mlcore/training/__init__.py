"""Training: the runner (fit signals, tune the fusion weights, evaluate), its memory budget and the artifacts it writes."""
