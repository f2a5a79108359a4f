"""Qt-aware state without widgets: runs, colours, settings, the frame scheduler."""
