"""Pre-labeling engines: pure code that turns task data into Label Studio predictions (no database)."""
