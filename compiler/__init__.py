"""mlc: a declarative GitOps configuration compiler for ML infrastructure."""

__version__ = "0.1.0"
