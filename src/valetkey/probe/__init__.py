"""Live probes and the browser-like agent they drive."""
