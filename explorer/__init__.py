"""Gradient Descent Explorer: watch torch.optim descend a landscape you type."""

__version__ = "0.1.0"
