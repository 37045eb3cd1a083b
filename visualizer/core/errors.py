"""The project's own error types: every failure a user can cause ends up as one of these,
carrying a message written for that user (what went wrong, and what to do)."""


class VisualizerError(Exception):
    """Base class for errors with a message meant for the user."""


class ImageLoadError(VisualizerError):
    """An image file could not be read or is not acceptable."""


class ModelLoadError(VisualizerError):
    """A model could not be built or its weights could not be loaded."""


class WeightsUnavailableError(ModelLoadError):
    """Pretrained weights are not on this machine and cannot be downloaded."""


class UntrustedCheckpointError(ModelLoadError):
    """A checkpoint needs full unpickling (which can run code) and the user has not trusted it."""


class ParameterError(VisualizerError):
    """An attack, sweep or saliency parameter is invalid."""


class OutputError(VisualizerError):
    """Results could not be written."""


class UntrustedCodeError(UntrustedCheckpointError):
    """Loading needs to run a Python file (a py: architecture) and the user has not trusted it."""
