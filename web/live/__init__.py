"""The live system: the event hub that follows every task's lifecycle from the broker, the
learners' websockets and the message protocol spoken over them, each socket's outbox, the one
runner every experiment press goes through, a learner's tasks read back from the result backend,
and what the running workers say about themselves."""
