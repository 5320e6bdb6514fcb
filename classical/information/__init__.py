"""Mutual information and CMI along the MNIST diffusion path (issue 11; theory note ``information.md``).

Public entry points: :func:`estimate_mi`, :func:`estimate_cmi` (one interface for arrays of shape (n, ...)),
exact references (:func:`gaussian_cmi`, :func:`mixture_cmi`, :func:`empirical_mixture_cmi`), and the paper's
regions (:func:`paper_regions`).
"""

from .estimators import METHODS, InfoEstimate, estimate_cmi, estimate_mi
from .grid import PAPER_TIMES, CMIGrid, mixture_model_cmi_grid, predictive_cmi_grid
from .references import (
    GaussianMixture,
    ReferenceCMI,
    empirical_mixture_cmi,
    empirical_mixture_cmi_profile,
    fit_mixture,
    gaussian_cmi,
    mixture_cmi,
    mixture_cmi_profile,
)
from .regions import PAPER_RADII, PAPER_SIZE, Regions, crop_paper, paper_regions, split_regions

__all__ = [
    "estimate_mi", "estimate_cmi", "InfoEstimate", "METHODS", "CMIGrid", "predictive_cmi_grid",
    "mixture_model_cmi_grid", "PAPER_TIMES",
    "Regions", "PAPER_SIZE", "PAPER_RADII", "paper_regions", "crop_paper", "split_regions",
    "ReferenceCMI", "gaussian_cmi", "GaussianMixture", "fit_mixture", "mixture_cmi", "mixture_cmi_profile",
    "empirical_mixture_cmi", "empirical_mixture_cmi_profile",
]
