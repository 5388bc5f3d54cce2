"""Backbones: ``create_model(name)`` for iresnet18/34/50/100, mobilefacenet and rtnet50, and each model's
input contract (:func:`input_spec`, :func:`model_input`)."""

from .inputs import ALIGNED_ROI, CARTESIAN_ROI, InputSpec, model_input, round_trip, space_roi
from .registry import INPUT_SPECS, MODELS, NEEDS_ROIS, create_model, input_spec, list_models

__all__ = ["ALIGNED_ROI", "CARTESIAN_ROI", "INPUT_SPECS", "MODELS", "NEEDS_ROIS", "InputSpec", "create_model",
           "input_spec", "list_models", "model_input", "round_trip", "space_roi"]
