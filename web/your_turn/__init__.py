"""Your turn: the playground API that runs a learner's own code in the sandbox (the engine itself
is the top-level playground/ package), the learner's workspace, and the exercises checked there."""
