"""web: what browsers load from hubtrail: the tracking script (and, later, the dashboard)."""
