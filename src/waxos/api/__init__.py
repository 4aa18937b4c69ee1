"""HTTP API: dependencies, the error translator, one router module per resource."""
