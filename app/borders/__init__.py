"""Border lines, their subdivided copies for proximity queries, and their zones."""
