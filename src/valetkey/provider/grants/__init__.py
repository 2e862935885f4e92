"""The grants the token endpoint serves, one module each, and what they issue."""
