"""Tools that are not the service: the Slack stand-in and `make run`'s local stack."""
