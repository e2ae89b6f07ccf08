"""The classroom: an instructor's class (its rooms and members), the instructor's API and login,
the learners' side (join, follow along, leave), the projector and what its screens show, the
class's task tally, class exercises, and the worker controls an instructor presses."""
