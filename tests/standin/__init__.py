"""Tests of the Slack stand-in (slack_standin)."""
