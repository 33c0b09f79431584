"""opstui: a terminal app for operators of Opsera CI/CD pipelines."""

__version__ = "0.1.0"
