"""One construct per concern; each grants exactly what its functions need."""
