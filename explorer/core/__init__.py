"""Pure core: expressions, optimisers, the batched descent engine. Never imports Qt."""
