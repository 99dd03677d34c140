"""What every asset of the Dagster graph shares: the paths resource, the staging IO manager,
masked errors and asset names. Below the assets, above the library (`dancu`)."""
