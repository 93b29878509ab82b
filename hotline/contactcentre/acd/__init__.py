"""The automatic call distributor (ACD), pure: no Django, no sockets.

- `states`: the agent state machine as data (签入/示闲/示忙/振铃/通话/话后整理/签出).
- `routing`: queues with required skills, waiting calls, agent snapshots; which waiting call
  goes to which idle agent (priority, FIFO, sticky routing, longest idle), overflow rules,
  queue positions and expected-wait estimates.
- `erlang`: Erlang B, C and A (M/M/N+M) formulas for staffing and for the benchmark.

The database side (agents' state rows, the atomic claim of an agent, queued-call records)
lives in `hotline.contactcentre` (services, snapshot); the voice gateway calls it through
`hotline.contactcentre.acd_services` from its transfer handler.
"""
