"""Gate.io v4 spot as the simulator plays it: protocol, capture dialect, synthetic formatter."""
