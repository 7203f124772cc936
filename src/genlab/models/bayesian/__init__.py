"""Bayesian neural networks: predictions with their uncertainty (Bayes by backprop, MC dropout, ensembles)."""

from .bnn import BNN, BNNConfig, Predictive

__all__ = ["BNN", "BNNConfig", "Predictive"]
