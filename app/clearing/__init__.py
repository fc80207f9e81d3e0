"""Joint clearing works and border works along stretches of the line, with completions."""
