"""The regulators' tools: the cockpit, the anomaly worklist, the capacity-gap planner and 以渣定产."""
