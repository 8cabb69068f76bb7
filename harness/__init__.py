"""xai-harness: explanation methods on CNNs and vision transformers, side by side."""

__version__ = "0.1.0"
