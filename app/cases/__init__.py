"""Cases with the other side: the dated steps that settle an incident, and breach reviews."""
