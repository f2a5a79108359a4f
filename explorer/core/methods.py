"""Every method the window offers by name, torch.optim's (core.optimizers' registry) and
scipy.optimize's (core.scipy_methods): its labels and one-line explanation."""

from __future__ import annotations

from explorer.core.optimizers import get_spec
from explorer.core.scipy_methods import METHODS, is_scipy_method

# One line each, as the registry's help: what the method does with f, and what it asks for.
SCIPY_HELP: dict[str, str] = {
    "cg": "Nonlinear conjugate gradient: each search direction conjugate to the last; "
    "f and its gradient",
    "bfgs": "Quasi-Newton: builds the inverse Hessian from gradient changes; f and its gradient",
    "l-bfgs-b": "BFGS with a short memory of recent gradients; f and its gradient",
    "newton-cg": "Newton's method, its step solved by conjugate gradient; gradient and Hessian",
    "trust-ncg": "Newton steps kept within a trust region that grows and shrinks; "
    "gradient and Hessian",
    "nelder-mead": "A simplex of three points that reflects, expands and shrinks; f alone, "
    "no derivatives",
    "powell": "Line searches along a set of directions it updates; f alone, no derivatives",
}


def short_label(name: str) -> str:
    """The method's short label: 'SGD', 'Adam', 'BFGS', 'Nelder-Mead'."""
    return METHODS[name].scipy_name if is_scipy_method(name) else get_spec(name).short_label


def label(name: str) -> str:
    """The method's label in lists: the registry's for torch, scipy's own name for scipy."""
    return METHODS[name].scipy_name if is_scipy_method(name) else get_spec(name).label


def help_text(name: str) -> str:
    """The method's one-line explanation."""
    return SCIPY_HELP[name] if is_scipy_method(name) else get_spec(name).help
