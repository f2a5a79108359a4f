"""The lab tools: basin map, optimiser race, learning-rate sweep."""
