"""The QThread jobs over the core: descent worker, basin map, race and sweep."""
