"""Pure file formats: trajectory CSVs, written atomically. Never imports Qt."""
