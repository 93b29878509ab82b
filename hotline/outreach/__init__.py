"""Outreach: the hotline reaching the citizen. Call backs (回访), surveys, missed-call call
backs, notifications, campaigns, polls, appointments and partners. Outbound calls are rows
(``OutboundCall``) that any gateway with a trunk claims by a conditional UPDATE."""
