"""dancu: make a city's population data correct, complete, clean and live."""
