"""Administrative units (provinces, districts) with validity dates."""
