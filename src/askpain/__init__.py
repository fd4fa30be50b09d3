"""askpain: cited patient education for people whose spine or joint injection did not help."""

__version__ = "0.1.0"
