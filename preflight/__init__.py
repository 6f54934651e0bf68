"""preflight: check, price and fix images before they are sent to Claude's vision API."""
