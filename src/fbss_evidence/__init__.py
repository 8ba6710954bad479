"""Evidence synthesis of quantitative claims about failed back surgery syndrome (FBSS)."""
__version__ = "0.1.0"
