"""Backbones: ``create_model(name)`` for iresnet18/34/50/100, mobilefacenet and rtnet50."""

from .registry import MODELS, NEEDS_ROIS, create_model, list_models

__all__ = ["MODELS", "NEEDS_ROIS", "create_model", "list_models"]
